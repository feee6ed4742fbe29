#!/usr/bin/env python3
"""pstn-credits-sim command line: `python run_sim.py --help`."""
import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
