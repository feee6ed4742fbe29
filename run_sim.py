#!/usr/bin/env python3
"""pstn-credits-sim command line: `python run_sim.py --help`."""
import contextlib
import os
import sys

from sim.cli import INTERRUPTED, main

if __name__ == "__main__":
    code = main()
    if INTERRUPTED.is_set():
        # Interrupted, and cleaned up: end here. The interpreter's shutdown could still crash in a
        # Dask thread the signal left running ("Fatal Python error", status -6 instead of 1).
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError):        # a closed pipe (`... | head`) must not stop it
                stream.flush()
        os._exit(code)
    sys.exit(code)
