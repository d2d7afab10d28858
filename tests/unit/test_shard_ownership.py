"""Sharding: which shard owns a namespace (stable hash, label pin), the settings that choose
a shard, and an engine that indexes everything but queues and writes only its own slice."""

import collections
import json
from typing import Any

import httpx
import pytest

from portico.clients.kube import KubeClient
from portico.config import from_env
from portico.domain.refs import EntityKey
from portico.domain.sharding import (
    FINALIZER,
    SHARD_LABEL,
    Sharding,
    hashed_shard,
    pinned_shard,
    shard_of,
)
from portico.errors import ConfigError
from portico.reconcilers.catalog import CatalogEngine
from portico.reconcilers.relations import Relations
from support.engine import Store, index


def test_the_hash_is_stable_across_processes_and_releases() -> None:
    """sha256, not Python's salted hash(): these values must never change, or an upgrade
    would move namespaces between shards."""
    assert [hashed_shard(n, 2) for n in ("payments", "platform", "shop", "a")] == [0, 1, 1, 0]
    assert hashed_shard("platform", 16) == 7
    assert hashed_shard("kube-system", 3) == 1


def test_the_hash_spreads_namespaces_evenly() -> None:
    counts = collections.Counter(hashed_shard(f"ns-{i}", 4) for i in range(4000))
    assert set(counts) == {0, 1, 2, 3}
    assert all(900 < c < 1100 for c in counts.values()), counts


def test_a_label_pins_a_namespace_and_a_bad_pin_is_ignored() -> None:
    assert shard_of("payments", {SHARD_LABEL: "1"}, 2) == 1  # the hash says 0
    assert shard_of("payments", {SHARD_LABEL: " 1 "}, 2) == 1
    for bad in ("2", "-1", "one", "", "1.0"):
        assert pinned_shard({SHARD_LABEL: bad}, 2) is None
        assert shard_of("payments", {SHARD_LABEL: bad}, 2) == 0  # back to the hash


def test_one_shard_owns_everything() -> None:
    one = Sharding()
    assert not one.enabled
    assert one.owns("anything", {SHARD_LABEL: "3"})
    assert one.peering("portico") == "portico"
    assert one.finalizer == FINALIZER
    assert one.describe() == "unsharded"


def test_every_namespace_has_exactly_one_owner() -> None:
    shards = [Sharding(shards=3, shard=i) for i in range(3)]
    for i in range(300):
        labels = {SHARD_LABEL: str(i % 4)} if i % 5 == 0 else {}
        owners = [s.shard for s in shards if s.owns(f"ns-{i}", labels)]
        assert len(owners) == 1, (i, owners)


def test_each_shard_peers_and_finalizes_under_its_own_name() -> None:
    zero, one = Sharding(shards=2, shard=0), Sharding(shards=2, shard=1)
    assert (zero.peering("portico"), one.peering("portico")) == (
        "portico-shard-0",
        "portico-shard-1",
    )
    assert zero.peering(None) is None  # standalone stays standalone
    assert zero.finalizer == "portico.dev/cleanup"  # going from 1 shard to 2 migrates itself
    assert one.finalizer == "portico.dev/cleanup-shard-1"
    assert one.describe() == "shard 1 of 2"


def test_settings_choose_the_shard() -> None:
    assert from_env({}).sharding == Sharding()
    assert from_env({"PORTICO_SHARDS": "4", "PORTICO_SHARD": "3"}).sharding == Sharding(4, 3)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORTICO_SHARDS": "2", "PORTICO_SHARD": "2"}, "PORTICO_SHARD: 2 is not a shard"),
        ({"PORTICO_SHARD": "1"}, "PORTICO_SHARDS=1"),
        ({"PORTICO_SHARDS": "0"}, "PORTICO_SHARDS: "),
        ({"PORTICO_SHARDS": "two"}, "PORTICO_SHARDS: "),
        ({"PORTICO_SHARDS": "2", "PORTICO_SHARD": "-1"}, "PORTICO_SHARD: "),
    ],
)
def test_bad_shard_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_env(env)


# --- the engine of one shard -------------------------------------------------------------


def body(kind: str, namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    meta = {"name": name, "namespace": namespace, "uid": f"{namespace}-{name}"}
    return {
        "kind": kind,
        "metadata": {**meta, "generation": 1, "resourceVersion": "1"},
        "spec": spec,
        "status": {},
    }


def shard_engine(shard: int) -> tuple[CatalogEngine, list[str], Store, Relations]:
    """Shard `shard` of 2, with namespaces `zero` and `one` pinned to shards 0 and 1."""
    written: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        written.append(request.url.path)
        return httpx.Response(200, json=json.loads(request.content or b"{}"))

    http = httpx.AsyncClient(base_url="https://api", transport=httpx.MockTransport(handler))
    engine = CatalogEngine(
        KubeClient(http), clock=lambda: "2026-01-01T00:00:00Z", sharding=Sharding(2, shard)
    )
    entities = Store()
    namespaces = Store(zero=[{SHARD_LABEL: "0"}], one=[{SHARD_LABEL: "1"}])
    engine.bind({"entities": entities, "namespaces": namespaces})
    assert engine.graph is not None
    return engine, written, entities, engine.graph.relations


def drain(engine: CatalogEngine) -> set[EntityKey]:
    out = set()
    while not engine.queue.idle():
        key = engine.queue._queue.get_nowait()
        engine.queue._pending.discard(key)
        out.add(key)
    return out


COMPONENT = {
    "type": "service",
    "lifecycle": "production",
    "owner": "group:team",
    "system": "system:one/shop",
}


async def test_a_shard_queues_and_writes_only_its_own_namespaces() -> None:
    engine, written, entities, edges = shard_engine(0)
    mine = index(entities, edges, body("Component", "zero", "web", COMPONENT))
    theirs = index(entities, edges, body("System", "one", "shop", {"owner": "group:team"}))
    engine.observe(theirs, deleted=False)
    engine.observe(mine, deleted=False)
    assert drain(engine) == {mine.key}  # the System is indexed, never queued here
    await engine.reconcile(theirs.key)  # even if asked directly (a namespace that moved)
    assert written == []
    await engine.reconcile(mine.key)
    assert written == ["/apis/portico.dev/v1alpha1/namespaces/zero/components/web/status"]


async def test_a_roll_up_is_queued_by_its_own_shard_for_members_anywhere() -> None:
    """Shard 1 owns the System; its member lives in shard 0's namespace. The member's
    change (seen through the shared index) re-queues the System on shard 1 only."""
    for shard, expected in ((1, True), (0, False)):
        engine, _, entities, edges = shard_engine(shard)
        system = index(entities, edges, body("System", "one", "shop", {"owner": "group:team"}))
        member = index(entities, edges, body("Component", "zero", "web", COMPONENT))
        engine.observe(member, deleted=False)
        assert len(engine.rollups) == (1 if expected else 0), shard
        engine.rollups.forget(system.key)


async def test_a_namespace_moving_to_this_shard_requeues_its_entities() -> None:
    engine, _, entities, edges = shard_engine(0)
    theirs = index(entities, edges, body("System", "one", "shop", {"owner": "group:team"}))
    engine.observe_namespace("one", {SHARD_LABEL: "1"}, deleted=False)  # first sight
    engine.observe(theirs, deleted=False)
    assert drain(engine) == set()
    assert engine.graph is not None
    engine.graph._ix["namespaces"]["one"] = [{SHARD_LABEL: "0"}]  # kopf's index goes first
    engine.observe_namespace("one", {SHARD_LABEL: "0"}, deleted=False)
    assert drain(engine) == {theirs.key}


def test_only_the_owner_takes_the_finalizer_and_a_begun_cleanup_finishes() -> None:
    from types import SimpleNamespace

    from portico.handlers.cleanup import _ours_to_clean

    spec = {"observe": {"grafana": {"dashboard": True}}}

    def ours(shard: int, namespace: str, **meta: Any) -> bool:
        engine, _, _, _ = shard_engine(shard)
        raw = {"metadata": {"namespace": namespace, **meta}, "spec": spec}
        return _ours_to_clean(
            spec=spec, namespace=namespace, body=raw, memo=SimpleNamespace(engine=engine)
        )

    assert [ours(0, "zero"), ours(1, "zero")] == [True, False]
    assert [ours(0, "one"), ours(1, "one")] == [False, True]
    deleting = {"deletionTimestamp": "2026-01-01T00:00:00Z"}
    # shard 1 began cleaning up in `zero` before the namespace moved to shard 0
    assert ours(1, "zero", finalizers=["portico.dev/cleanup-shard-1"], **deleting)
    assert not ours(1, "zero", finalizers=["portico.dev/cleanup"], **deleting)
