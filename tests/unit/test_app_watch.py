"""Portico's own watch of Argo CD Applications (reconcilers/app_watch.py), against a fake API
server transport. The matrix: Argo CD not installed yet, then served (found on the next
look at discovery, without any kopf rescan); a list, then watch events; an expired watch
(410) re-lists; Argo CD removed empties the store. Each change reaches `on_change`."""

import asyncio
import json
from typing import Any

import httpx

from portico.clients.kube import KubeClient
from portico.domain.argocd import AppView
from portico.reconcilers.app_watch import ApplicationWatch
from support.poll import eventually_async


def app(name: str, rv: str, health: str = "Healthy") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "argocd", "resourceVersion": rv},
        "spec": {},
        "status": {"health": {"status": health}, "sync": {"status": "Synced"}},
    }


class FakeApi:
    """Discovery, LIST and WATCH of applications.argoproj.io, scripted by the test."""

    def __init__(self) -> None:
        self.served = False
        self.items: list[dict[str, Any]] = []
        self.streams: list[list[dict[str, Any]]] = []  # one list of events per watch call
        self.lists = 0
        self.watches: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/apis/argoproj.io/v1alpha1":
            if not self.served:
                return httpx.Response(404, json={"message": "not found"})
            return httpx.Response(200, json={"resources": [{"name": "applications"}]})
        if path == "/apis/argoproj.io/v1alpha1/applications":
            if not self.served:
                return httpx.Response(404, json={"message": "not found"})
            if request.url.params.get("watch") == "true":
                self.watches.append(request.url.params.get("resourceVersion", ""))
                events = self.streams.pop(0) if self.streams else []
                for event in events:  # what a later LIST shows
                    if event["type"] == "MODIFIED":
                        self.items = [event["object"]]
                body = "".join(json.dumps(e) + "\n" for e in events)
                return httpx.Response(200, text=body)
            self.lists += 1
            return httpx.Response(
                200, json={"metadata": {"resourceVersion": "10"}, "items": self.items}
            )
        return httpx.Response(404, json={"message": path})


async def test_applications_are_found_listed_watched_and_relisted() -> None:
    api = FakeApi()
    http = httpx.AsyncClient(base_url="https://api", transport=httpx.MockTransport(api.handle))
    changes: list[tuple[AppView | None, AppView | None]] = []
    watch = ApplicationWatch(KubeClient(http), lambda a, b: changes.append((a, b)), max_wait=0.2)
    watch.start()
    try:
        await asyncio.sleep(0)  # not installed: nothing to list
        assert watch.get("argocd", "one") is None
        api.items = [app("one", "9")]
        api.streams = [
            [{"type": "MODIFIED", "object": app("one", "11", "Degraded")}],
            [{"type": "ERROR", "object": {"code": 410, "message": "too old"}}],
        ]
        api.served = True  # Argo CD installed while Portico runs; nobody wakes the watch

        async def degraded() -> None:
            found = watch.get("argocd", "one")
            assert found is not None
            assert found.health == "Degraded"

        await eventually_async(degraded, within=5)
        await eventually_async(lambda: _assert(api.lists >= 2, "no re-list after 410"))
        assert api.watches[0] == "10"  # watched from the list's resourceVersion
        assert [b.health for a, b in changes[:2] if b] == ["Healthy", "Degraded"]
        api.served = False  # Argo CD removed
        watch.wake()
        await eventually_async(lambda: _assert(watch.get("argocd", "one") is None, "kept"))
        assert changes[-1][1] is None
    finally:
        await watch.stop()
        await http.aclose()


async def _assert(ok: bool, message: str) -> None:
    assert ok, message


async def test_a_crd_event_makes_discovery_asked_again_soon_not_after_the_backoff() -> None:
    """The CRD handler wakes the watch a moment before discovery serves Applications: the
    watch must look again within its shortest wait, whatever its backoff had grown to while
    Argo CD was absent (the e2e flake: Missing for a minute after Argo CD was installed)."""
    api = FakeApi()
    http = httpx.AsyncClient(base_url="https://api", transport=httpx.MockTransport(api.handle))
    api.items = [app("one", "9")]
    watch = ApplicationWatch(KubeClient(http), lambda a, b: None, min_wait=0.05, max_wait=60)
    watch.start()
    try:
        await asyncio.sleep(1.6)  # absent for a while: the backoff has grown past 0.8 s
        watch.wake()  # the CRD's event; discovery does not serve it yet
        await asyncio.sleep(0.02)
        api.served = True
        found = asyncio.get_running_loop().time()

        async def listed() -> None:
            assert watch.get("argocd", "one") is not None

        await eventually_async(listed, within=0.5)
        assert asyncio.get_running_loop().time() - found < 0.5
    finally:
        await watch.stop()
        await http.aclose()
