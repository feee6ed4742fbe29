"""Test-wide settings."""
from sim.engine import ledger_log
from sim.engine.planned import Batches

# Small test tenants rarely have 8 credit-paid calls in a row; blocks of one exercise the
# block path (sim/engine/ahead.py HeldBlock) everywhere. Results do not depend on the size.
Batches.SMALLEST = 1
# The journal's replay catches up after a few held increments instead of a million, so that the
# replays in the middle of a run (and what they leave for later) are exercised everywhere too.
ledger_log.CATCH_UP = 3
