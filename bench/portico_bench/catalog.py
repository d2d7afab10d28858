"""The entities the measures create: Components, Systems and APIs whose references all
resolve, and the readiness test a measure waits for."""

from __future__ import annotations

from typing import Any

GROUP_PATH = "/apis/portico.dev/v1alpha1"
PLURALS = {"Component": "components", "System": "systems", "API": "apis"}
DEFINITION = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n"


def component(name: str, ns: str, system: str, api: str) -> dict[str, Any]:
    return {
        "apiVersion": "portico.dev/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "type": "service",
            "lifecycle": "production",
            "owner": "group:team",
            "system": system,
            "providesApis": [api],
        },
    }


def system(name: str, ns: str) -> dict[str, Any]:
    return {
        "apiVersion": "portico.dev/v1alpha1",
        "kind": "System",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"owner": "group:team"},
    }


def api(name: str, ns: str, system_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "portico.dev/v1alpha1",
        "kind": "API",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "type": "openapi",
            "lifecycle": "production",
            "owner": "group:team",
            "system": system_name,
            "definition": DEFINITION,
        },
    }


def catalog(n: int, ns: str) -> list[dict[str, Any]]:
    """N Components, one System per 50 and one API per 10 (at least one each); every
    Component is part of an existing System and provides an existing API."""
    n_sys = max(1, n // 50)
    n_api = max(1, n // 10)
    objs = [system(f"sys-{i}", ns) for i in range(n_sys)]
    objs += [api(f"api-{i}", ns, f"sys-{i % n_sys}") for i in range(n_api)]
    objs += [component(f"c-{i}", ns, f"sys-{i % n_sys}", f"api-{i % n_api}") for i in range(n)]
    return objs


def is_ready(obj: dict[str, Any]) -> bool:
    """Ready=True for the object's current generation."""
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"].get("generation"):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
