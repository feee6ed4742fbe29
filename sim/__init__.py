"""The simulator around the pure billing core in `models/`, one sub-package per stage of the data path.

    inputs  →  engine  →  analysis  →  outputs  →  parallel  →  commands  →  cli

- `sim.inputs`   reads what the user gives: the scenario schema, rate cards, the tenant's users,
                 usage-report exports (replay), and the call-attempt table both traffic sources fill.
- `sim.engine`   the world built from a scenario, synthetic traffic, and the SimPy event loop that
                 bills every call through `models/` (funding ahead, checkpoints).
- `sim.analysis` metrics of one replication, statistics over replications, comparisons.
- `sim.outputs`  the results folder: CDR and journal CSVs, summary.json, the table, workbook, pictures.
- `sim.parallel` runs (replication, policy) tasks over workers.
- `sim.commands` one module per command (`run`, `validate`, ...), joining the stages.
- `sim.cli`      parses the command line, calls one command function, maps errors to exit codes.

A stage imports only from the stages to its left (and `sim.errors`, `models`);
tests/test_layout.py fails otherwise.
"""
