"""Commands: one module per `run_sim.py` command (`run`, `validate`, `fit`, `sweep`, `optimise`),
each one function that joins the stages (inputs → engine → analysis → outputs → parallel) for that
command; `replications` holds the rule for how many replications `run` makes. `load` reads and
checks a scenario and everything it names, for every command. Only `sim.cli` imports this package.
"""
