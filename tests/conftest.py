"""Test-wide settings."""
from sim.engine.planned import Batches

# Small test tenants rarely have 8 credit-paid calls in a row; blocks of one exercise the
# block path (sim/engine/ahead.py HeldBlock) everywhere. Results do not depend on the size.
Batches.SMALLEST = 1
