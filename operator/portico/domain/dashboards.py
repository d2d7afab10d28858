"""Grafana dashboards decided: identity, folder, the rendered model and its content hash.

A dashboard's uid is derived from the Component (deterministic: a retry or restart finds
the same dashboard), its folder from the Component's System, and it is tagged `portico`:
Portico only ever overwrites or deletes dashboards carrying that tag.
"""

import hashlib
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from portico.domain.refs import EntityKey
from portico.rendering.skeleton import RenderError, render_string

TAG = "portico"
DEFAULT_FOLDER = ("portico-unassigned", "Portico: no System")


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def dashboard_uid(key: EntityKey) -> str:
    return f"portico-{_short(f'{key.namespace}/{key.name}')}"  # 24 chars: within Grafana's 40


def folder_for(system: EntityKey | None) -> tuple[str, str]:
    if system is None:
        return DEFAULT_FOLDER
    return f"portico-{_short(str(system))}", f"{system.namespace}/{system.name}"


def default_template() -> str:
    path = resources.files("portico.rendering") / "templates" / "component-dashboard.json.j2"
    return path.read_text()


def promql_selector(labels: dict[str, str] | None, name: str) -> str:
    chosen = labels or {"service": name}
    return ",".join(f'{k}="{v}"' for k, v in sorted(chosen.items()))


def render_dashboard(
    template: str,
    key: EntityKey,
    labels: dict[str, str] | None,
    *,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The dashboard model: the Template's (or the default) JSON template rendered in the
    sandbox, plus the identity fields Portico owns (uid, title, tags)."""
    title = f"{key.namespace}/{key.name}"
    # `selector` is used inside JSON strings in the template: escape it for JSON.
    context = {
        "component": {"name": key.name, "namespace": key.namespace},
        "title": title,
        "selector": json.dumps(promql_selector(labels, key.name))[1:-1],
    }
    if progress:
        progress("dashboard")
    text = render_string(template, context, "dashboard")
    try:
        model = json.loads(text)
    except ValueError as e:
        raise RenderError("dashboard", f"does not render to JSON: {e}") from e
    if not isinstance(model, dict):
        raise RenderError("dashboard", "does not render to a JSON object")
    model |= {
        "uid": dashboard_uid(key),
        "title": title,
        "tags": sorted(
            {*model.get("tags", []), TAG, f"portico-component:{key.namespace}.{key.name}"}
        ),
    }
    model.pop("id", None)
    model.pop("version", None)
    return model


def content_hash(model: dict[str, Any], folder_uid: str) -> str:
    text = json.dumps({"model": model, "folder": folder_uid}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
