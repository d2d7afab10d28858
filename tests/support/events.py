"""Kubernetes Events as kubectl shows them (core/v1 view of events.k8s.io Events)."""

import json
from typing import Any

from support.kubectl import Kubectl


def events(kubectl: Kubectl, namespace: str, name: str, reason: str) -> list[dict[str, Any]]:
    """The Events about object `name` with `reason` (they outlive the object)."""
    out = kubectl.run(
        "get", "events", "-n", namespace, "-o", "json",
        "--field-selector", f"involvedObject.name={name},reason={reason}",
    )  # fmt: skip
    items: list[dict[str, Any]] = json.loads(out.stdout)["items"]
    return items
