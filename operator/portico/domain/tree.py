"""`portico tree`: Systems with their members, owners and health, drawn for people."""

from collections.abc import Mapping, Sequence
from typing import Any

from portico.domain.refs import EntityKey, InvalidRef, parse_ref

COLORS = {
    "Healthy": "32",  # green
    "Progressing": "33",  # yellow
    "Missing": "35",  # magenta
    "Degraded": "31",  # red
    "Unknown": "90",  # grey
}
NO_SYSTEM = "(no system)"


def _health(obj: Mapping[str, Any]) -> tuple[str, str]:
    health = (obj.get("status") or {}).get("health") or {}
    return str(health.get("status") or "-"), str(health.get("message") or "")


def _paint(text: str, status: str, color: bool) -> str:
    code = COLORS.get(status)
    return f"\033[{code}m{text}\033[0m" if color and code else text


def _system_of(obj: Mapping[str, Any]) -> EntityKey | None:
    ref = (obj.get("spec") or {}).get("system")
    if not ref:
        return None
    try:
        return parse_ref(
            ref,
            default_kind="system",
            default_namespace=obj["metadata"].get("namespace", "default"),
        )
    except InvalidRef:
        return None


def render_tree(
    systems: Sequence[Mapping[str, Any]],
    members: Sequence[Mapping[str, Any]],
    *,
    color: bool,
) -> str:
    """Systems (sorted) each with their Components and APIs; members of no known System last."""
    by_system: dict[EntityKey | None, list[Mapping[str, Any]]] = {}
    known = {
        EntityKey("system", s["metadata"].get("namespace", "default"), s["metadata"]["name"])
        for s in systems
    }
    for obj in members:
        key = _system_of(obj)
        by_system.setdefault(key if key in known else None, []).append(obj)

    lines: list[str] = []
    ordered = sorted(
        systems, key=lambda s: (s["metadata"].get("namespace", ""), s["metadata"]["name"])
    )
    for system in ordered:
        meta = system["metadata"]
        key = EntityKey("system", meta.get("namespace", "default"), meta["name"])
        status, message = _health(system)
        title = f"{meta.get('namespace')}/{meta['name']}"
        owner = (system.get("spec") or {}).get("owner", "")
        lines.append(
            f"{_paint(title, status, color)}  {owner}  {_paint(status, status, color)}"
            + (f"  {message}" if message and status != "Healthy" else "")
        )
        _members(lines, by_system.get(key, []), color)
    orphans = by_system.get(None, [])
    if orphans:
        lines.append(NO_SYSTEM)
        _members(lines, orphans, color)
    return "\n".join(lines) + ("\n" if lines else "")


def _members(lines: list[str], members: list[Mapping[str, Any]], color: bool) -> None:
    ordered = sorted(members, key=lambda o: (o.get("kind") != "Component", o["metadata"]["name"]))
    width = max((len(o["metadata"]["name"]) for o in ordered), default=0)
    for i, obj in enumerate(ordered):
        branch = "└── " if i == len(ordered) - 1 else "├── "
        status, message = _health(obj)
        kind = "component" if obj.get("kind") == "Component" else "api"
        spec = obj.get("spec") or {}
        name = obj["metadata"]["name"].ljust(width)
        text = f"{branch}{kind:<9} {name}  {spec.get('owner', '')}  {_paint(status, status, color)}"
        if message and status != "Healthy":
            text += f"  {message}"
        lines.append(text)
