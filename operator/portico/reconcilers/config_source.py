"""The operator's configuration: the portico-config ConfigMap, read at start and on change.

A ConfigMap that does not parse is reported and ignored: the last good configuration stays
in force (the defaults, if there never was one), so a typo never widens what is allowed.
The report is a log line and a Warning Event on the ConfigMap (`kubectl describe configmap
portico-config -n portico-system`) naming the field or the scorecard check, posted once per
distinct error; a Normal Event says when a good configuration replaced a rejected one.

The watch runs under `supervise`: the API server's expected failures (a dropped connection,
an expired resourceVersion) are handled in the watch itself; anything else (a malformed watch
line) restarts it after a back-off, and a restart re-lists first, since events may have been
missed meanwhile. The operator never goes on with a configuration nobody watches any more.
"""

import asyncio
import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import yaml
from pydantic import ValidationError

from portico.clients.kube import KubeClient
from portico.domain.events import config_event
from portico.errors import NotFound, PorticoError
from portico.models.config import OperatorConfig
from portico.reconcilers.events import post_event
from portico.reconcilers.supervisor import supervise

log = logging.getLogger("portico.config")
KEY = "config.yaml"


def parse_config(data: dict[str, Any] | None) -> OperatorConfig:
    """Parse the ConfigMap's `config.yaml`; raises ValueError naming the bad field."""
    text = (data or {}).get(KEY)
    if not text:
        return OperatorConfig()
    try:
        raw = yaml.safe_load(text) or {}
        return OperatorConfig.model_validate(raw)
    except yaml.YAMLError as e:
        raise ValueError(f"{KEY} is not valid YAML: {e}") from e
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{KEY}: {where}: {first['msg']}") from e


class ConfigSource:
    def __init__(
        self, kube: KubeClient, namespace: str, name: str, on_change: Callable[[], None]
    ) -> None:
        self.current = OperatorConfig()
        self._kube = kube
        self._path = f"/api/v1/namespaces/{namespace}/configmaps"
        self._name = name
        self._on_change = on_change
        self._task: asyncio.Task[None] | None = None
        self._resource_version: str | None = None
        self._runs = 0
        self.error: str | None = None  # why the ConfigMap in the cluster is not in force
        self._loaded = False  # a configuration from the ConfigMap was ever in force
        self.instance = socket.gethostname()

    async def _report(self, obj: dict[str, Any], error: str | None, loaded: bool = True) -> None:
        meta = obj.get("metadata") or {}
        event = config_event(
            str(meta.get("namespace", "")),
            self._name,
            str(meta.get("uid", "")),
            error,
            kept="the last good configuration stays" if loaded else "Portico's defaults stay",
            now=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            instance=self.instance,
        )
        await post_event(self._kube, event, f"the configuration event of {self._name}")

    async def _accept(self, obj: dict[str, Any] | None) -> None:
        try:
            config = parse_config((obj or {}).get("data"))
        except ValueError as e:  # a warning: the operator goes on with the last good one
            log.warning(
                "ignoring configmap %s: %s (keeping the previous configuration)", self._name, e
            )
            if str(e) != self.error and obj is not None:
                await self._report(obj, str(e), loaded=self._loaded)
            self.error = str(e)
            return
        if self.error is not None and obj is not None:
            await self._report(obj, None)
        self.error = None
        self._loaded = True
        if config != self.current:
            self.current = config
            log.info("configuration loaded from configmap %s", self._name)
            self._on_change()

    async def load(self) -> str | None:
        """Read the ConfigMap once; returns its resourceVersion (None if absent)."""
        try:
            cm = await self._kube.get(f"{self._path}/{self._name}")
        except NotFound:
            log.info("no configmap %s: using the defaults", self._name)
            return None
        await self._accept(cm)
        rv = cm.get("metadata", {}).get("resourceVersion")
        return str(rv) if rv else None

    def start(self, resource_version: str | None) -> None:
        """Watch from `resource_version` (what load() returned) until stop()."""
        self._resource_version = resource_version
        self._task = asyncio.create_task(
            supervise("config-watch", self._watch), name="portico-config"
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _watch(self) -> None:
        """One run of the watch (the supervisor starts it again if it crashes)."""
        self._runs += 1
        if self._runs > 1:  # a restart after a crash: what changed meanwhile is unknown
            self._resource_version = await self._safe_load()
        delay = 1.0
        while True:
            try:
                async for event in self._kube.watch(
                    f"{self._path}?fieldSelector=metadata.name%3D{self._name}",
                    resource_version=self._resource_version,
                ):
                    obj = event.get("object", {})
                    self._resource_version = obj.get("metadata", {}).get("resourceVersion")
                    if event.get("type") in ("ADDED", "MODIFIED"):
                        await self._accept(obj)
                    elif event.get("type") == "DELETED":
                        await self._accept(None)
                    elif event.get("type") == "ERROR":
                        self._resource_version = await self.load()  # expired: re-list
                delay = 1.0
            except PorticoError as e:
                log.warning("watching configmap %s: %s; retrying in %.0fs", self._name, e, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60)
                self._resource_version = await self._safe_load()

    async def _safe_load(self) -> str | None:
        try:
            return await self.load()
        except PorticoError:
            return None
