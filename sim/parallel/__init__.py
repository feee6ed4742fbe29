"""Parallel: runs (replication, policy) tasks over worker processes, with seeds derived so that
results are identical for any number of workers. Sits above outputs (replication 0 writes its
files where it runs); only `sim.cli` imports it.
"""
