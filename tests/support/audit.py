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


def operator_writes(
    path: Path, *, after_marker: str | None = None, namespace: str | None = None
) -> list[dict[str, Any]]:
    """Write requests made by the operator (its user agents) after a marker, optionally
    only those to objects in one namespace."""
    seen_marker = after_marker is None
    writes = []
    for e in events(path):
        if not seen_marker:
            seen_marker = after_marker is not None and _mentions(e, after_marker)
            continue
        agent = e.get("userAgent", "")
        if e.get("verb") not in WRITE_VERBS or not (agent.startswith("portico") or "kopf" in agent):
            continue
        if namespace is None or e.get("objectRef", {}).get("namespace") == namespace:
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


def timestamp(event: dict[str, Any]) -> float:
    """The server-side completion time of an audit event, in seconds."""
    from datetime import datetime

    return datetime.fromisoformat(event["stageTimestamp"].replace("Z", "+00:00")).timestamp()


def writes_to(
    path: Path,
    resource: str,
    name: str,
    namespace: str,
    *,
    after_marker: str,
    operator_only: bool = False,
) -> list[dict[str, Any]]:
    """Writes to one object after a marker, oldest first."""
    seen = False
    out = []
    for e in events(path):
        if not seen:
            seen = _mentions(e, after_marker)
            continue
        ref = e.get("objectRef", {})
        if (
            e.get("verb") in WRITE_VERBS
            and ref.get("resource") == resource
            and ref.get("name") == name
            and ref.get("namespace") == namespace
        ):
            agent = e.get("userAgent", "")
            if not operator_only or agent.startswith("portico") or "kopf" in agent:
                out.append(e)
    return sorted(out, key=timestamp)
