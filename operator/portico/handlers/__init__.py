"""kopf registration only: thin doorways into the reconcilers. Importing registers them."""

from portico.handlers import argocd, catalog, cleanup, lifecycle, namespaces, workloads

__all__ = ["argocd", "catalog", "cleanup", "lifecycle", "namespaces", "workloads"]
