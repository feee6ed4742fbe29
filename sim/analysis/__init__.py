"""Analysis: judging runs. `metrics` reduces one replication to the named metrics of
scenario-format.md; `stats` holds the confidence intervals (t, Hall's skewness-corrected t,
Wilson, rule of three) and `compare` the paired differences against a baseline (Holm-corrected);
`summary` aggregates metrics over replications; `frontier` and `selection` serve `sweep` and
`optimise`; `fit/` estimates a traffic model from a usage report. Imports `models`, `sim.inputs` and `sim.engine`
only: nothing here writes files.
"""
