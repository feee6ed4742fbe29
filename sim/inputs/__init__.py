"""Inputs: everything the user hands in, read, checked and turned into plain data.

The scenario schema (`scenario`, `traffic_spec`, `sweep`, on `spec_base`) read by `yamlfile`
(duplicate keys, bad bytes), ISO 3166 `countries`, rate cards (`ratecard`), the tenant's users
(`tenant`), PSTN usage-report exports (`reports/`: every format, the call-type table, row checks,
the import report) turned into attempts for replay (`replay`), and `attempts`, the columnar table
of call attempts that both synthetic traffic and replay produce. Bad input raises
`sim.errors.InputError` naming the file and key or line. Imports only `models` and `sim.errors`.
"""
