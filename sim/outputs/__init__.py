"""Outputs: what the user gets back. `folder` writes a results folder aside and moves it into
place whole (with a manifest); `columns`, `cdr` and `journal` build the per-call tables as columns
and `tablefile` writes them (CSV or Parquet); `policy_files` the per-policy files; `rounding` the
one half-up rule for every figure shown; `table` and `paired` the comparison tables and
summary.json; `reconciliation` the replayed bill against the rebilled one; `sweep_files` and
`fitted` what `sweep` and `fit` write; `excel` the workbook; `plots` and `monthly_plot` the
pictures. May import every stage to its left (inputs, engine, analysis), never `sim.parallel`,
`sim.commands` or `sim.cli`.
"""
