"""Grafana dashboards decided: identity, folder, the rendered model and its content hash.

A dashboard's uid is derived from the Component (deterministic: a retry or restart finds
the same dashboard), its folder from the Component's System, and it is tagged `portico`:
Portico only ever overwrites or deletes dashboards carrying that tag.

Identities are injective and within Grafana's limits: the uid is `portico-<16 hex>` (24
characters; Grafana allows 40) of sha256 over `<namespace>/<name>`, a string that is itself
injective (neither part holds a slash), so two Components share a uid only on a 64-bit
collision of sha256. The folder uid is the same over the System's reference. The
informational tag `portico-component:<namespace>.<name>` is cut to Grafana's 50 bytes per
tag with a hash when longer (`component_tag`).
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


TAG_MAX = 50  # Grafana refuses (or fails on) a dashboard tag longer than 50 bytes


def component_tag(key: EntityKey) -> str:
    """`portico-component:<namespace>.<name>`, or past 50 bytes a 33-byte prefix `~<16 hex>`
    (Kubernetes names hold no `~`, so the two forms never meet)."""
    tag = f"portico-component:{key.namespace}.{key.name}"
    if len(tag) <= TAG_MAX:
        return tag
    return f"{tag[: TAG_MAX - 17]}~{_short(f'{key.namespace}/{key.name}')}"


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
        "tags": sorted({*model.get("tags", []), TAG, component_tag(key)}),
    }
    model.pop("id", None)
    model.pop("version", None)
    return model


def content_hash(model: dict[str, Any], folder_uid: str) -> str:
    text = json.dumps({"model": model, "folder": folder_uid}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
