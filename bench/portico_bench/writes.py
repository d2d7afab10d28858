"""Measure 3, write amplification: the operator's writes, read from the API server's audit
log between two markers.

It is not a step of its own. Each measure opens a window with `await audit.mark()`, does
its work, and closes it with `await window_writes(audit, start, ns)`; it reports the count
(and `breakdown`) under its own keys and its own verdict row (writes per created entity,
per spec change, per idle window, per restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

from portico_bench.kube import Api

WRITE_VERBS = {"create", "update", "patch", "delete"}


class Audit:
    """Reads the API server's audit log incrementally; markers (ConfigMaps) cut windows."""

    def __init__(self, path: Path, api: Api) -> None:
        self.path = path
        self.api = api
        self.offset = 0
        self.events: list[dict[str, Any]] = []
        self._partial = b""

    def poll(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            if f.seek(0, 2) < self.offset:  # rotated (the devcluster asks for no rotation)
                raise RuntimeError(f"{self.path} was rotated; its events are lost")
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            with contextlib.suppress(ValueError):
                self.events.append(json.loads(line))

    async def mark(self, limit: float = 60.0) -> int:
        """Create a marker and wait until the log shows it; returns the index after it.

        Only the events read since the marker was created are searched: at N=10000 the log
        holds hundreds of thousands, and scanning them all on every poll made the marker
        miss a 20 s limit while the API server was still writing a burst's entries."""
        name = f"bench-marker-{uuid.uuid4().hex[:8]}"
        self.poll()
        checked = len(self.events)
        await self.api.configmap("default", name)
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            self.poll()
            for i in range(checked, len(self.events)):
                if (self.events[i].get("objectRef") or {}).get("name") == name:
                    return i + 1
            checked = len(self.events)
            await asyncio.sleep(0.2)
        raise TimeoutError(f"audit marker not logged within {limit:.0f}s")

    def operator_writes(
        self, start: int, end: int | None = None, ns: str | None = None
    ) -> list[dict[str, Any]]:
        """Writes (create/update/patch/delete) by the operator's user agents (`portico...`
        or containing `kopf`) among events[start:end], in `ns` if given."""
        out = []
        for e in self.events[start:end]:
            agent = e.get("userAgent", "")
            if e.get("verb") not in WRITE_VERBS:
                continue
            if not (agent.startswith("portico") or "kopf" in agent):
                continue
            if ns is not None and (e.get("objectRef") or {}).get("namespace") != ns:
                continue
            out.append(e)
        return out


async def window_writes(audit: Audit, start: int, ns: str) -> list[dict[str, Any]]:
    """Close the window opened by `start = await audit.mark()`: the operator's writes in
    `ns` from `start` to a new marker."""
    end = await audit.mark()
    return audit.operator_writes(start, end, ns)


def breakdown(writes: list[dict[str, Any]]) -> dict[str, int]:
    """Writes counted by "verb resource[/subresource]", e.g. "patch components/status"."""
    out: dict[str, int] = {}
    for e in writes:
        ref = e.get("objectRef") or {}
        sub = f"/{ref['subresource']}" if ref.get("subresource") else ""
        key = f"{e.get('verb')} {ref.get('resource')}{sub}"
        out[key] = out.get(key, 0) + 1
    return out


async def wait_quiet(
    audit: Audit, start: int, ns: str, quiet: float = 5.0, limit: float = 120.0
) -> float:
    """Wait until the operator made no write in `ns` for `quiet` seconds."""
    t0 = time.monotonic()
    count = -1
    last_change = t0
    while time.monotonic() - t0 < limit:
        audit.poll()
        c = len(audit.operator_writes(start, ns=ns))
        if c != count:
            count, last_change = c, time.monotonic()
        elif time.monotonic() - last_change >= quiet:
            break
        await asyncio.sleep(0.5)
    return time.monotonic() - t0
