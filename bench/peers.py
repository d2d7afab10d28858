"""Side by side with Backstage: Portico's measures and Backstage's catalog backend on the
same generated catalog, on this machine, in the same run; prints Portico/Backstage ratios.

Opt-in (Node.js >= 20 and npm; `npm ci` in bench/peers/backstage on first use). The code
is `portico_bench.peers`; bench/README.md, "Side by side with Backstage". Run:
`.venv/bin/python bench/peers.py [--sizes 1000,10000] [--out bench/results/peers.json]`;
`--help` lists the flags.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from portico_bench.peers import main

if __name__ == "__main__":
    sys.exit(main())
