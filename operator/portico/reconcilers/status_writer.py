"""Writing an entity's status: the smallest merge patch of the owned fields, or nothing.

After a patch, the watch may lag behind our own write; `OwnWrites` remembers what was
written, so a reconcile in that gap starts from it and the watch event of the write (its
echo) queues nothing (own_writes.py)."""

import logging
from collections.abc import Mapping
from typing import Any

from portico.clients.kube import KubeClient
from portico.domain.entity import EntityView
from portico.domain.status import OWNED, status_patch
from portico.errors import NotFound
from portico.metrics import STATUS_WRITES
from portico.models.kinds import GROUP, VERSION, kind_info
from portico.reconcilers.own_writes import OwnWrites

log = logging.getLogger("portico.catalog")


class StatusWriter:
    def __init__(self, kube: KubeClient) -> None:
        self._kube = kube
        self.own = OwnWrites()
        self.writes = 0

    async def write(
        self, view: EntityView, current: Mapping[str, Any], desired: Mapping[str, Any]
    ) -> bool:
        """Patch what differs; False when nothing did (or the entity is gone meanwhile)."""
        key = view.key
        patch = status_patch(current, desired, OWNED[key.kind])
        if patch is None:
            return False
        info = kind_info(key.kind)
        try:
            result = await self._kube.patch_status(
                GROUP, VERSION, info.plural, key.namespace, key.name, patch
            )
        except NotFound:
            return False  # deleted meanwhile; its DELETED event cleans up
        self.writes += 1
        STATUS_WRITES.labels(key.kind).inc()
        merged = {**current, **{k: desired[k] for k in patch if desired.get(k) is not None}}
        for k, v in patch.items():
            if v is None:
                merged.pop(k, None)
        produced = str((result.get("metadata") or {}).get("resourceVersion", ""))
        self.own.record(view, produced, merged)
        log.debug("%s: status patched (%s)", key, ", ".join(sorted(patch)))
        return True
