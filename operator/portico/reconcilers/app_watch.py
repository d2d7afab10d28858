"""Argo CD Applications, watched by Portico itself rather than through kopf.

kopf learns that a new resource is served only when it rescans the API group on one of the
group's CRD events. When discovery serves `applications.argoproj.io` a moment after the
CRD's last event (Established), kopf never starts watching Applications until some other
CRD of the group changes: a Component then says `Missing` for an Application that exists
and is Healthy. That was the flaky e2e test, and a user who installs Argo CD after Portico
would have met it too.

This watch does not depend on that. It asks discovery itself, backing off from 1 s to 60 s
while Argo CD is not installed (the CRD handler wakes it at once), then LISTs every
Application, WATCHes from the list's resourceVersion, re-lists when the watch expires (410)
and starts over if the resource goes away. Each change of an Application calls `on_change`
with the old and the new view (None when absent), and the store is what the engine reads.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from portico.clients.kube import KubeClient
from portico.domain.argocd import AppView, app_from_body
from portico.errors import PorticoError, RejectedError
from portico.reconcilers.supervisor import supervise

log = logging.getLogger("portico.argocd")
GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "applications"
PATH = f"/apis/{GROUP}/{VERSION}/{PLURAL}"
Key = tuple[str, str]
OnChange = Callable[[AppView | None, AppView | None], None]


class Expired(Exception):
    """The watch's resourceVersion is too old (410 Gone): list again."""


class ApplicationWatch:
    def __init__(
        self,
        kube: KubeClient,
        on_change: OnChange,
        *,
        min_wait: float = 1.0,
        max_wait: float = 60.0,
    ) -> None:
        self._kube = kube
        self._on_change = on_change
        self._min_wait = min_wait
        self._max_wait = max_wait
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.apps: dict[Key, AppView] = {}
        self.served = False
        self._synced = asyncio.Event()  # the first answer: listed, or not installed

    async def wait_synced(self, seconds: float) -> bool:
        """Wait for the first list (or for discovery to say Argo CD is absent), at most
        `seconds`: reconciling before it would report every Application Missing once."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._synced.wait(), seconds)
        return self._synced.is_set()

    def get(self, namespace: str, name: str) -> AppView | None:
        return self.apps.get((namespace, name))

    def start(self) -> None:
        self._task = asyncio.create_task(
            supervise("argocd-applications", self._run), name="portico-applications"
        )

    def wake(self) -> None:
        """Argo CD's CRD changed: look at discovery again now."""
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        wait = self._min_wait
        while True:
            self._wake.clear()
            if not await self._kube.resource_exists(GROUP, VERSION, PLURAL):
                self._replace({})
                self.served = False
                self._synced.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                # A CRD event comes a moment before discovery serves the resource: after a
                # wake, look again soon (1 s, 2 s, ...) rather than after the grown backoff.
                wait = self._min_wait if self._wake.is_set() else min(wait * 2, self._max_wait)
                continue
            wait = self._min_wait
            try:
                version = await self._list()
                self.served = True
                self._synced.set()
                while True:  # each watch ends after its timeout; go on from where it was
                    started = asyncio.get_running_loop().time()
                    version = await self._watch(version)
                    if asyncio.get_running_loop().time() - started < 1.0:
                        # A watch the server ends at once: don't spin on it.
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), 1.0)
                        if self._wake.is_set():
                            break  # Argo CD's CRD changed: ask discovery again
            except Expired:
                continue  # re-list
            except PorticoError as e:  # Argo CD removed, or the API server failed
                log.warning("watching Applications: %s; starting over", e)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 1.0)

    async def _list(self) -> str | None:
        listed = await self._kube.get(PATH)
        fresh = {}
        for item in listed.get("items") or []:
            app = app_from_body(item)
            fresh[(app.namespace, app.name)] = app
        self._replace(fresh)
        return (listed.get("metadata") or {}).get("resourceVersion")

    def _replace(self, fresh: dict[Key, AppView]) -> None:
        old, self.apps = self.apps, fresh
        for key in old.keys() | fresh.keys():
            if old.get(key) != fresh.get(key):
                self._on_change(old.get(key), fresh.get(key))

    async def _watch(self, version: str | None) -> str | None:
        async for event in self._kube.watch(PATH, resource_version=version):
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "ERROR":
                if obj.get("code") == 410:
                    raise Expired()
                raise RejectedError("kubernetes", f"watch {PATH}: {obj.get('message', '')}")
            version = (obj.get("metadata") or {}).get("resourceVersion") or version
            if kind in ("ADDED", "MODIFIED", "DELETED"):
                self._apply(kind, obj)
        return version

    def _apply(self, kind: Any, obj: dict[str, Any]) -> None:
        app = app_from_body(obj)
        key = (app.namespace, app.name)
        before = self.apps.get(key)
        if kind == "DELETED":
            self.apps.pop(key, None)
            self._on_change(before, None)
        elif before != app:
            self.apps[key] = app
            self._on_change(before, app)
