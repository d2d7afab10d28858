"""One parse per object version, shared by the index functions and the event handler."""

from collections.abc import Mapping
from typing import Any

from portico.domain.entity import EntityView, view_from_body

_cache: dict[str, tuple[str, EntityView]] = {}


def view_of(body: Mapping[str, Any]) -> EntityView:
    meta = body.get("metadata", {})
    uid, rv = meta.get("uid", ""), meta.get("resourceVersion", "")
    hit = _cache.get(uid)
    if hit is not None and hit[0] == rv:
        return hit[1]
    view = view_from_body(str(body.get("kind", "")), body)
    _cache[uid] = (rv, view)
    return view


def forget(body: Mapping[str, Any]) -> None:
    _cache.pop(body.get("metadata", {}).get("uid", ""), None)
