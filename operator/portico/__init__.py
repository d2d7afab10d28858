"""Portico: a software catalog as Kubernetes APIs."""

__version__ = "0.1.0"
