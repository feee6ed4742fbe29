"""Analysis: judging runs. `metrics` reduces one replication to the named metrics of
scenario-format.md; `stats` holds the confidence intervals; `summary` aggregates metrics over
replications. Imports `models`, `sim.inputs` and `sim.engine` only: nothing here writes files.
"""
