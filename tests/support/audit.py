"""Count the operator's writes from the API server's audit log (one JSON event a line)."""

import json
import uuid
from pathlib import Path
from typing import Any

from support.kubectl import Kubectl
from support.poll import eventually

WRITE_VERBS = {"create", "update", "patch", "delete"}


def events(path: Path) -> list[dict[str, Any]]:
    out = []
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a line being written right now
    return out


def _mentions(event: dict[str, Any], name: str) -> bool:
    return name in event.get("requestURI", "") or event.get("objectRef", {}).get("name") == name


def operator_writes(path: Path, *, after_marker: str | None = None) -> list[dict[str, Any]]:
    """Write requests made by the operator (its user agents), after a marker if given."""
    seen_marker = after_marker is None
    writes = []
    for e in events(path):
        if not seen_marker:
            seen_marker = _mentions(e, after_marker)
            continue
        agent = e.get("userAgent", "")
        if e.get("verb") in WRITE_VERBS and (agent.startswith("portico") or "kopf" in agent):
            writes.append(e)
    return writes


def flush_marker(kubectl: Kubectl, path: Path, namespace: str) -> str:
    """Write a marker object and wait until the audit log shows it: everything before it
    has been flushed. Returns the marker's name."""
    name = f"audit-marker-{uuid.uuid4().hex[:8]}"
    kubectl.run("create", "configmap", name, "-n", namespace)

    def logged() -> None:
        assert any(_mentions(e, name) for e in events(path)), "marker not in the audit log yet"

    eventually(logged, timeout=15)
    return name
