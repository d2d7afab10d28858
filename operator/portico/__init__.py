"""Portico: a software catalog as Kubernetes APIs."""


def __getattr__(name: str) -> str:
    # `portico.__version__` is looked up lazily, so importing any other part of the package
    # (the template render children do) never loads importlib.metadata.
    if name == "__version__":
        from portico.version import version

        return version()
    raise AttributeError(f"module 'portico' has no attribute {name!r}")
