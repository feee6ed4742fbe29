"""Parallel: (replication, policy) tasks (runner.py) and where they run (engine.py): this process,
a dask.distributed LocalCluster or an existing Dask cluster, with seeds derived so that results are
identical wherever they run. Sits above outputs (replication-0 tasks write their policy's files);
only `sim.commands` imports it.
"""
