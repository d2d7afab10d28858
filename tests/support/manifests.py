"""Catalog manifests for tests: one builder instead of hand-written JSON in every module."""

import json
from typing import Any

API_VERSION = "portico.dev/v1alpha1"


def entity(kind: str, name: str, *, owner: str = "group:team", **spec: Any) -> dict[str, Any]:
    """A catalog object (spec fields by their camelCase names)."""
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": {"name": name},
        "spec": {"owner": owner, **spec},
    }


def as_json(obj: dict[str, Any]) -> str:
    """For `kubectl apply -f -`."""
    return json.dumps(obj)
