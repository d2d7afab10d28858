"""One parse per object version, shared by the index functions and the event handler.

kopf calls several index functions and then the event handler with the same body; each
asks `view_of`, and only the first parses. The cache is a bounded LRU (uid ->
(resourceVersion, view)): a miss only costs a parse, so the bound is a memory cap, not a
correctness concern. It is large enough to keep every object of a big catalog across
kopf's periodic re-lists (same resourceVersion: no re-parse), and `forget` drops a deleted
object at once; an object deleted while the watch was down is not announced by kopf, and
ages out of the LRU instead. One lives in kopf's memo (`memo.views`, made at startup), not
in a module global.
"""

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from portico.domain.entity import EntityView, view_from_body

MAX_VIEWS = 20_000


class ViewCache:
    def __init__(self, size: int = MAX_VIEWS) -> None:
        self._size = size
        self._views: OrderedDict[str, tuple[str, EntityView]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._views)

    def view_of(self, body: Mapping[str, Any]) -> EntityView:
        meta = body.get("metadata", {})
        uid, rv = meta.get("uid", ""), meta.get("resourceVersion", "")
        hit = self._views.get(uid)
        if hit is not None and hit[0] == rv:
            self._views.move_to_end(uid)
            return hit[1]
        view = view_from_body(str(body.get("kind", "")), body)
        self._views[uid] = (rv, view)
        self._views.move_to_end(uid)
        if len(self._views) > self._size:
            self._views.popitem(last=False)
        return view

    def forget(self, body: Mapping[str, Any]) -> None:
        self._views.pop(body.get("metadata", {}).get("uid", ""), None)
