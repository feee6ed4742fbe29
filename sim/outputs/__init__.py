"""Outputs: what the user gets back. `folder` writes a results folder aside and moves it into
place whole; `cdr` formats the R12 usage report; `policy_files` the per-policy CSVs; `table` the
comparison table and summary.json; `excel` the workbook; `plots` the pictures. May import every
stage to its left (inputs, engine, analysis), never `sim.parallel` or `sim.cli`.
"""
