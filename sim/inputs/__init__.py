"""Inputs: everything the user hands in, read, checked and turned into plain data.

The scenario schema (`scenario`), rate cards (`ratecard`), the tenant's users (`tenant`), PSTN
usage-report exports for replay (`replay`), and `attempts`, the columnar table of call attempts
that both synthetic traffic and replay produce. Bad input raises `sim.errors.InputError` naming
the file and key or line. Imports only `models` and `sim.errors`: no engine, no outputs.
"""
