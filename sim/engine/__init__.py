"""Engine: one replication of one policy, simulated.

`world` builds the tenant, rate card, pools and policies from a scenario; `profiles` decides when
calls arrive and `traffic` draws the synthetic call attempts (one random stream per random input);
`loop` is the SimPy event loop that funds every billing increment through the billing core in
`models/` and records outcomes, with `funding` (the engine's side of the account: reservations,
held credits, hooks) and `ahead` (paying later increments ahead of time, exactly), and checkpoints
to stop and resume; `bounds` estimates what a run will cost before it starts.
Imports `models`, `sim.inputs` and `sim.errors` only.
"""
