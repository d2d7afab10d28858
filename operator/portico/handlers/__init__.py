"""kopf registration only: thin doorways into the reconcilers. Importing registers them."""

from portico.handlers import catalog, lifecycle, workloads

__all__ = ["catalog", "lifecycle", "workloads"]
