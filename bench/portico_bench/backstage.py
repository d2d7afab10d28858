"""The Backstage peer of `peers.py`: Backstage's catalog backend (bench/peers/backstage/,
`node backend.js`) on `catalog.catalog(N)` written as Backstage YAML, in one `file`
location, and its measures (bench/README.md, "Side by side with Backstage"):

- cold ingest: the backend is up with only the Groups the owners name; at t0 the full file
  is written and its Location refreshed (`POST /api/catalog/refresh`); done at the first
  `/api/catalog/entities` listing (time it was sent) with every entity and every relation
  the catalog implies (both directions);
- edit -> visible: one Component's description changed in the file, until
  `/api/catalog/entities/by-name/...` shows it; then again with a refresh call for that
  entity (what a webhook would do);
- RSS peak (VmHWM) and settled (after the idle window), idle CPU (% of a core).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from portico_bench import ROOT
from portico_bench.catalog import catalog
from portico_bench.harness import CLK_TCK, Result, cpu_ticks, log, rss_mb
from portico_devcluster.cluster import free_port

PEER = ROOT / "bench" / "peers" / "backstage"
SETTINGS: dict[str, int | None] = {"tuned": 5, "default": None}  # processingInterval, s


@dataclass(frozen=True)
class BackstageOptions:
    edits: int  # edits timed with the tuned interval, and with a refresh call
    default_edits: int  # edits timed with the default interval (each takes 100-150 s)
    edit_timeout: float
    idle_seconds: float
    cold_timeout: float


def status_mb(pid: int, key: str) -> float:
    """A `/proc/<pid>/status` size (VmRSS, VmHWM) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the catalog as Backstage entities -------------------------------------------------------
def ref(kind: str, name: str) -> str:
    return f"{kind.lower()}:default/{name}"


def backstage_entities(n: int) -> list[dict[str, Any]]:
    """`catalog.catalog(n)` as Backstage entities (same names and specs), after one Group
    per owner they name."""
    out: list[dict[str, Any]] = []
    owners: set[str] = set()
    for obj in catalog(n, "default"):
        owners.add(obj["spec"]["owner"])
        out.append(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": obj["kind"],
                "metadata": {"name": obj["metadata"]["name"]},
                "spec": dict(obj["spec"]),
            }
        )
    groups = [
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Group",
            "metadata": {"name": owner.split(":", 1)[1]},
            "spec": {"type": "team", "children": []},
        }
        for owner in sorted(owners)
    ]
    return groups + out


def expected_relations(entities: list[dict[str, Any]]) -> dict[str, set[tuple[str, str]]]:
    """Every relation the catalog implies, both directions, by entity ref."""
    rels: dict[str, set[tuple[str, str]]] = {
        ref(e["kind"], e["metadata"]["name"]): set() for e in entities
    }

    def add(src: str, kind: str, dst: str, inverse: str) -> None:
        rels[src].add((kind, dst))
        rels[dst].add((inverse, src))

    for e in entities:
        me, spec = ref(e["kind"], e["metadata"]["name"]), e["spec"]
        if "owner" in spec:
            add(me, "ownedBy", ref("group", spec["owner"].split(":", 1)[1]), "ownerOf")
        if "system" in spec:
            add(me, "partOf", ref("system", spec["system"]), "hasPart")
        for api_name in spec.get("providesApis", []):
            add(me, "providesApi", ref("api", api_name), "apiProvidedBy")
    return rels


def complete(items: list[dict[str, Any]], expected: dict[str, set[tuple[str, str]]]) -> int:
    """How many expected entities the listing shows with all their relations."""
    got = {
        ref(i["kind"], i["metadata"]["name"]): {
            (r["type"], r["targetRef"]) for r in i.get("relations") or []
        }
        for i in items
    }
    return sum(1 for k, want in expected.items() if want <= got.get(k, set()))


# --- the Backstage process ---------------------------------------------------------------
def ensure_node_modules() -> None:
    if (PEER / "node_modules").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found: the Backstage peer needs Node.js >= 20 and npm")
    log("npm ci in bench/peers/backstage (builds better-sqlite3; a minute or two)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PEER, check=True)


class Backstage:
    """`node backend.js` with app-config.yaml and an overlay (port, catalog file, interval);
    the catalog file starts with only the Groups."""

    def __init__(self, work: Path, n: int, setting: str, entities: list[dict[str, Any]]):
        self.name = f"backstage-{n}-{setting}"
        self.file = work / f"{self.name}-catalog.yaml"
        self.overlay = work / f"{self.name}-config.yaml"
        self.log_path = work / f"{self.name}.log"
        self.entities = entities
        self.docs = [yaml.safe_dump(e, sort_keys=False) for e in entities]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.AsyncClient(
            base_url=self.url,
            timeout=httpx.Timeout(300.0),
            limits=httpx.Limits(max_keepalive_connections=0),  # see `request`
        )
        catalog_cfg: dict[str, Any] = {"locations": [{"type": "file", "target": str(self.file)}]}
        if SETTINGS[setting] is not None:
            catalog_cfg["processingInterval"] = {"seconds": SETTINGS[setting]}
        self.config = {
            "backend": {
                "baseUrl": self.url,
                "listen": {"port": self.port},
                "logger": {"level": "warn"},  # no log line per request
            },
            "catalog": catalog_cfg,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.errors: list[str] = []  # dropped connections, retried
        self.slowest: dict[str, float] = {}  # the slowest request of each kind, s

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def write(self, docs: list[str]) -> None:
        """Replace the catalog file atomically (Backstage never reads half of it)."""
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text("---\n".join(docs))
        os.replace(tmp, self.file)

    def start(self) -> None:
        self.write(
            [d for d, e in zip(self.docs, self.entities, strict=True) if e["kind"] == "Group"]
        )
        self.overlay.write_text(yaml.safe_dump(self.config))
        args = ["node", "backend.js", "--config", "app-config.yaml", "--config", str(self.overlay)]
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(args, cwd=PEER, stdout=out, stderr=subprocess.STDOUT)

    async def stop(self) -> None:
        await self.http.aclose()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.proc.wait, 30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                await asyncio.to_thread(self.proc.wait)

    async def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """One request, on a new connection: at N=10000, with Backstage saturated, requests
        on reused keep-alive connections were dropped (ReadError), likely Node closing an
        idle connection as the request arrived. Retried 5 times if dropped while the
        process is alive; drops and the slowest request of each kind are recorded."""
        for attempt in range(5):
            t = time.monotonic()
            try:
                r = await self.http.request(method, path, **kw)
            except (httpx.ReadError, httpx.RemoteProtocolError) as e:
                self.errors.append(f"{time.strftime('%H:%M:%S')} {method} {path}: {e!r}")
                log(f"{self.name}: {self.errors[-1]}")
                if attempt == 4 or self.proc is None or self.proc.poll() is not None:
                    raise
                await asyncio.sleep(1.0)
                continue
            head, by_name, _ = path.partition("/by-name/")
            what = f"{method} {head}{by_name and '/by-name/*'}"
            self.slowest[what] = max(self.slowest.get(what, 0.0), time.monotonic() - t)
            r.raise_for_status()
            return r
        raise AssertionError("unreachable")

    async def get(self, path: str, **params: Any) -> Any:
        return (await self.request("GET", path, params=params)).json()

    async def refresh(self, entity_ref: str) -> None:
        await self.request("POST", "/api/catalog/refresh", json={"entityRef": entity_ref})

    async def wait_ready(self, limit: float = 120.0) -> str:
        """Until the Groups are listed; returns the file Location's entity ref."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: see {self.log_path}")
            await asyncio.sleep(0.2)
            try:
                items = await self.get("/api/catalog/entities", fields="kind,metadata.name")
            except httpx.HTTPError:
                continue
            kinds = {i["kind"] for i in items}
            if {"Group", "Location"} <= kinds:
                loc = next(i for i in items if i["kind"] == "Location")
                return ref("location", loc["metadata"]["name"])
        raise RuntimeError(f"{self.name} not ready after {limit}s: see {self.log_path}")


# --- the Backstage measures --------------------------------------------------------------
async def cold_ingest(bs: Backstage, location: str, limit: float) -> Result:
    """The full file and a refresh of its Location at t0; done at the first listing (time
    it was sent) with every entity and relation. Cheap count queries until all are listed."""
    expected = expected_relations(bs.entities)
    bs.write(bs.docs)
    c0, t0 = cpu_ticks(bs.pid), time.monotonic()
    await bs.refresh(location)
    listed_at = seconds = confirmed = cpu = None
    done = listings = 0
    trace: list[tuple[float, int]] = []  # (s, entities counted), every 5 s
    while seconds is None and time.monotonic() - t0 < limit:
        await asyncio.sleep(0.25)
        page = await bs.get("/api/catalog/entities/by-query", limit=1, fields="metadata.name")
        if not trace or time.monotonic() - t0 - trace[-1][0] >= 5:
            trace.append((round(time.monotonic() - t0, 1), page["totalItems"]))
            if len(trace) % 6 == 0:
                log(f"{bs.name}: {trace[-1][1]} entities after {trace[-1][0]}s")
        if page["totalItems"] < len(expected):
            continue
        listed_at = listed_at or time.monotonic() - t0
        sent, c_sent = time.monotonic(), cpu_ticks(bs.pid)
        items = await bs.get("/api/catalog/entities", fields="kind,metadata.name,relations")
        listings += 1
        done = complete(items, expected)
        if done == len(expected):
            seconds, confirmed = sent - t0, time.monotonic() - t0
            cpu = (c_sent - c0) / CLK_TCK  # without serving the listing that confirmed it
    return {
        "entities": len(expected),
        "relations": sum(len(v) for v in expected.values()),
        "seconds": seconds,
        "complete": done,
        "all_listed_at": listed_at,
        "confirmed_at": confirmed,
        "full_listings": listings,
        "cpu_seconds": cpu,
        "cpu_seconds_confirmed": (cpu_ticks(bs.pid) - c0) / CLK_TCK,
        "trace": trace,
    }


async def edits(bs: Backstage, count: int, call_refresh: bool, limit: float, seed: int) -> Result:
    """`count` edits in turn: a random Component's description changed in the file (and,
    with `call_refresh`, a refresh of that entity); time until the API shows it."""
    rng = random.Random(seed)
    comps = [i for i, e in enumerate(bs.entities) if e["kind"] == "Component"]
    samples: list[float | None] = []
    for k in range(count):
        i = rng.choice(comps)
        entity = bs.entities[i]
        desc = f"edit {seed}-{k}"
        entity["metadata"]["description"] = desc
        bs.docs[i] = yaml.safe_dump(entity, sort_keys=False)
        name = entity["metadata"]["name"]
        bs.write(bs.docs)
        t0 = time.monotonic()
        if call_refresh:
            await bs.refresh(ref("component", name))
        seen = None
        while seen is None and time.monotonic() - t0 < limit:
            sent = time.monotonic()
            got = await bs.get(f"/api/catalog/entities/by-name/component/default/{name}")
            if got["metadata"].get("description") == desc:
                seen = sent - t0
            else:
                await asyncio.sleep(0.1)
        samples.append(seen)
        log(f"{bs.name}: edit {k + 1}/{count} of {name}: {seen}")
    seen_all = [s for s in samples if s is not None]
    return {
        "samples": samples,
        "p50": statistics.median(seen_all) if seen_all else None,  # the mean of the middle two
        "max": max(seen_all, default=None),
    }


async def idle(pid: int, seconds: float) -> Result:
    c0, t0 = cpu_ticks(pid), time.monotonic()
    rss = []
    while time.monotonic() - t0 < seconds:
        await asyncio.sleep(1.0)
        rss.append(rss_mb(pid))
    cpu, elapsed = (cpu_ticks(pid) - c0) / CLK_TCK, time.monotonic() - t0
    return {"seconds": elapsed, "cpu_percent": 100 * cpu / elapsed, "rss_mb": rss[-1]}


async def run_backstage(opts: BackstageOptions, work: Path, n: int, setting: str) -> Result:
    bs = Backstage(work, n, setting, backstage_entities(n))
    interval = SETTINGS[setting]
    r: Result = {"processing_interval": f"{interval} s" if interval else "default (100-150 s)"}
    t = time.monotonic()
    bs.start()
    try:
        location = await bs.wait_ready()
        r["boot_seconds"], r["rss0_mb"] = time.monotonic() - t, rss_mb(bs.pid)
        r["cold"] = c = await cold_ingest(bs, location, opts.cold_timeout)
        log(f"{bs.name}: cold ingest {c['seconds']}s ({c['complete']}/{c['entities']})")
        count = opts.edits if interval else opts.default_edits
        r["edit"] = await edits(bs, count, False, opts.edit_timeout, seed=n)
        r["edit_refresh"] = await edits(bs, opts.edits, True, opts.edit_timeout, seed=n + 1)
        r["idle"] = await idle(bs.pid, opts.idle_seconds)
        log(f"{bs.name}: idle {r['idle']}, peak RSS {status_mb(bs.pid, 'VmHWM'):.0f} MiB")
    except (httpx.HTTPError, RuntimeError) as e:  # a finding: record it, go on
        r["error"] = repr(e)
        log(f"{bs.name}: FAILED {e!r}; log {bs.log_path}")
    finally:
        if bs.proc is not None and bs.proc.poll() is None:
            r["rss_peak_mb"] = status_mb(bs.pid, "VmHWM")
        r["exit_code"] = bs.proc.poll() if bs.proc is not None else None
        r["connection_errors"] = bs.errors
        r["slowest_request_seconds"] = bs.slowest
        await bs.stop()
    return r
