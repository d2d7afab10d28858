"""kopf registration only: thin doorways into the reconcilers. Importing registers them."""

from portico.handlers import argocd, catalog, lifecycle, workloads

__all__ = ["argocd", "catalog", "lifecycle", "workloads"]
