"""Portico's benchmark: how fast, how thrifty and how small the operator is, relative to
what the API server itself can do on the same machine at the same moment.

The entry point (the Makefile's `make bench` runs it); the code is the `portico_bench`
package next to this file: one module per measure, a shared harness for the floors
(bench/README.md). Run: `.venv/bin/python bench/run.py [--sizes 100,1000]
[--out bench/results/latest.json]`; `--help` lists the flags.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from portico_bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
