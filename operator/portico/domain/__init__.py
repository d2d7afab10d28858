"""Pure decisions over plain data: references, relations, conditions, desired status.

Nothing here performs I/O or imports kopf, kubernetes or httpx (an import-linter contract
in pyproject.toml checks it), so every decision is testable without a cluster.
"""
