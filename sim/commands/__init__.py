"""Commands: one module per `run_sim.py` command, each one function that joins the stages
(inputs → engine → analysis → outputs → parallel) for that command. `load` reads and checks a
scenario and everything it names, for every command. Only `sim.cli` imports this package.
"""
