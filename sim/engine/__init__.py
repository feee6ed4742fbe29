"""Engine: one replication of one policy, simulated.

`world` builds the tenant, rate card, pools and policies from a scenario; `profiles` decides when
calls arrive and `traffic` draws the synthetic call attempts (one random stream per random input);
`prepass` decides once per replication, with numpy, everything no funding policy can change (free
calls, static blocks, the pools' draws); `planned` is the SimPy event loop of one policy over the
calls that reach credits, and `loop` the exact one-event-per-increment loop (used when a policy
could change the pools, with `fund_ahead=False`, and for checkpoints to stop and resume); both fund
increments through the billing core in `models/`, with `funding` (the engine's side of the
account: reservations, held credits, the pre-pass's totals) and `ahead` (paying later increments
ahead of time, exactly); `ledger_log` rebuilds the journal of a run that paid ahead, as it goes;
`call_journal` keeps it per call per lot (ledger.csv's default granularity); `bounds`
estimates what a run will cost before it starts.
Imports `models`, `sim.inputs` and `sim.errors` only.
"""
