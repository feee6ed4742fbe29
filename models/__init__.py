"""The billing domain of a Teams PSTN tenant (billing-rules.md R1-R12).

Pure Python: no SimPy, no I/O. Time is an integer number of seconds since the
scenario start; money is an integer number of ten-thousandths (see `money`).
"""
