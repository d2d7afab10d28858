"""Sharding on a real API server: two shards (PORTICO_SHARDS=2) and a standby for shard 0,
each shard as its own ServiceAccount so the audit log tells them apart.

Every shard indexes the whole catalog and writes only its own namespaces: references,
relations and roll-ups across shards resolve; every object's writes come from exactly one
shard; the cleanup finalizer is the owner's; a SIGKILLed shard is taken over by its standby
only, and the other shard never writes its namespaces meanwhile.

The module runs its own control plane (etcd and kube-apiserver only): the session's
operator watches cluster-wide and would write these namespaces too.
"""

import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from portico_devcluster.cluster import LocalCluster
from support.audit import events, flush_marker
from support.gitops import bin_dir
from support.kubectl import Kubectl
from support.manifests import as_json, entity
from support.operator import OperatorProcess
from support.poll import eventually
from support.serviceaccount import service_account_kubeconfig

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_NS = "portico-system"
PEERING = "portico-sharding-test"


def identity(shard: int) -> str:
    return f"system:serviceaccount:{SYSTEM_NS}:portico-shard-{shard}"


@dataclass
class Shards:
    cluster: LocalCluster
    kubectl: Kubectl
    zero: str  # a namespace pinned to shard 0
    one: str  # a namespace pinned to shard 1
    replicas: dict[str, OperatorProcess]  # "0a", "0b" (shard 0 and its standby), "1"

    def writes(
        self, after: str | None = None, namespaces: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        """Write requests by the shards' identities to objects in the test's namespaces
        (`namespaces`, or the two pinned ones), after a marker if given."""
        namespaces = namespaces or (self.zero, self.one)
        seen = after is None
        out = []
        for e in events(self.cluster.audit_log):
            if not seen:
                seen = after in e.get("requestURI", "") or (
                    e.get("objectRef", {}).get("name") == after
                )
                continue
            user = e.get("user", {}).get("username", "")
            namespace = e.get("objectRef", {}).get("namespace")
            if user in (identity(0), identity(1)) and namespace in namespaces:
                out.append(e)
        return out


def _shard_identity(kubectl: Kubectl, shard: int, state: Path) -> Path:
    """A ServiceAccount bound to the operator's own roles: the same rights, its own name."""
    name = f"portico-shard-{shard}"
    kubectl.run("create", "serviceaccount", name, "-n", SYSTEM_NS)
    account = f"{SYSTEM_NS}:{name}"
    kubectl.run(
        "create", "clusterrolebinding", name, "--clusterrole=portico-operator",
        f"--serviceaccount={account}",
    )  # fmt: skip
    kubectl.run(
        "create", "rolebinding", name, "-n", SYSTEM_NS, "--role=portico-operator",
        f"--serviceaccount={account}",
    )  # fmt: skip
    return service_account_kubeconfig(kubectl, SYSTEM_NS, name, state / f"{name}.kubeconfig")


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shards]:
    state = tmp_path_factory.mktemp("shard-plane")
    cluster = LocalCluster(bin_dir=bin_dir(), state_dir=state)
    cluster.start()
    replicas: dict[str, OperatorProcess] = {}
    try:
        kubectl = Kubectl(cluster.bin_dir / "kubectl", cluster.kubeconfig)
        kubectl.run("apply", "--server-side", "-k", str(ROOT / "deploy"))
        kubectl.wait_established(ROOT / "crds")
        suffix = uuid.uuid4().hex[:6]
        zero, one = f"shard-zero-{suffix}", f"shard-one-{suffix}"
        for name, shard in ((zero, 0), (one, 1)):
            kubectl.run("create", "namespace", name)
            kubectl.run("label", "namespace", name, f"portico.dev/shard={shard}")
        kubeconfigs = {i: _shard_identity(kubectl, i, state) for i in (0, 1)}
        for replica, shard in (("0a", 0), ("0b", 0), ("1", 1)):
            env = {
                "PORTICO_SHARDS": "2",
                "PORTICO_SHARD": str(shard),
                "PORTICO_PEERING": PEERING,
                "PORTICO_PEERING_LIFETIME": "4",
            }
            log = state / f"shard-{replica}.log"
            replicas[replica] = OperatorProcess(kubeconfigs[shard], log, env, ("-v",))
            replicas[replica].start()
        yield Shards(cluster, kubectl, zero, one, replicas)
    finally:
        for proc in replicas.values():
            proc.stop()
        cluster.stop()
    for name, proc in replicas.items():
        errors = [
            line
            for line in proc.log().splitlines()
            if " ERROR " in line and "will retry" not in line
        ]
        assert not errors, f"replica {name} logged errors:\n" + "\n".join(errors[:20])


def catalog(zero: str, one: str) -> list[tuple[str, dict[str, Any]]]:
    """References across shards: Components in shard 0 are members of a System in shard 1
    and provide and consume its API; a Component in shard 1 depends on one in shard 0, and
    a System in shard 0 has a member in shard 1."""
    shop, api = f"system:{one}/shop", f"api:{one}/checkout-api"
    return [
        (zero, entity("Component", "web", type="service", lifecycle="production",
                      system=shop, providesApis=[api])),
        (zero, entity("Component", "worker", type="service", lifecycle="production",
                      system=shop, consumesApis=[api])),
        (zero, entity("System", "billing")),
        (one, entity("System", "shop")),
        (one, entity("API", "checkout-api", type="openapi", lifecycle="production",
                     system="shop", definition="openapi: 3.0.3\ninfo: {title: x, version: '1'}\n"
                     "paths: {}\n")),
        (one, entity("Component", "ledger", type="service", lifecycle="production",
                     system=f"system:{zero}/billing", dependsOn=[f"component:{zero}/worker"])),
        # something to clean up: the owner's finalizer, and only the owner's
        (zero, entity("Component", "dash-zero", type="website", lifecycle="production",
                      observe={"grafana": {"dashboard": True}})),
        (one, entity("Component", "dash-one", type="website", lifecycle="production",
                     observe={"grafana": {"dashboard": True}})),
    ]  # fmt: skip


def ready(kubectl: Kubectl, kind: str, name: str, namespace: str) -> None:
    kubectl.run(
        "wait", f"{kind.lower()}/{name}", "-n", namespace, "--for=condition=Ready",
        "--timeout=30s",
    )  # fmt: skip


def relations(obj: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["type"], r["target"]) for r in obj["status"]["relations"]}


def active_replica(shards: Shards, line: str) -> str:
    def one_writer() -> str:
        found = [name for name, r in shards.replicas.items() if line in r.log()]
        assert len(found) == 1, f"exactly one replica must have written ({line}): {found}"
        return found[0]

    return eventually(one_writer)


def test_shards_resolve_across_each_other_and_write_only_their_own(shards: Shards) -> None:
    kubectl, zero, one = shards.kubectl, shards.zero, shards.one
    started = time.monotonic()
    for namespace, obj in catalog(zero, one):
        kubectl.apply(as_json(obj), namespace)
    for namespace, obj in catalog(zero, one):
        if not obj["metadata"]["name"].startswith("dash-"):  # no Grafana here: not Ready
            ready(kubectl, obj["kind"], obj["metadata"]["name"], namespace)
    print(f"\nsharded catalog Ready after {time.monotonic() - started:.1f}s")

    web = kubectl.get("component", "web", zero)
    assert web is not None
    assert {("partOf", f"system:{one}/shop"), ("providesApi", f"api:{one}/checkout-api")} <= (
        relations(web)
    )

    def api_sources() -> None:  # a roll-up: written once its members are quiet
        api = kubectl.get("api", "checkout-api", one)
        assert api is not None
        assert api["status"].get("providers") == [f"component:{zero}/web"]
        assert api["status"].get("consumers") == [f"component:{zero}/worker"]

    eventually(api_sources)

    def shop_members() -> None:
        shop = kubectl.get("system", "shop", one)
        assert shop is not None
        members = [m["ref"] for m in shop["status"]["members"]]
        assert members == [f"api:{one}/checkout-api", f"component:{zero}/web",
                           f"component:{zero}/worker"], members  # fmt: skip
        assert shop["status"]["summary"] == "2 components, 1 apis"

    eventually(shop_members)

    def billing_members() -> None:  # a roll-up: written once its members are quiet
        billing = kubectl.get("system", "billing", zero)
        assert billing is not None
        members = (billing.get("status") or {}).get("members") or []
        assert [m["ref"] for m in members] == [f"component:{one}/ledger"]

    eventually(billing_members)
    worker = kubectl.get("component", "worker", zero)
    assert worker is not None
    assert ("dependencyOf", f"component:{one}/ledger") in relations(worker)

    # the cleanup finalizer is the owner's
    def finalizers() -> None:
        for name, namespace, expected in (
            ("dash-zero", zero, ["portico.dev/cleanup"]),
            ("dash-one", one, ["portico.dev/cleanup-shard-1"]),
        ):
            obj = kubectl.get("component", name, namespace)
            assert obj is not None
            assert obj["metadata"].get("finalizers") == expected, (name, obj["metadata"])

    eventually(finalizers)

    # every object was written by its namespace's shard only (status, finalizer, Events)
    flush_marker(kubectl, shards.cluster.audit_log, SYSTEM_NS)
    writes = shards.writes()
    assert writes, "the audit log shows no writes by the shards"
    by_object: dict[tuple[str, str, str], set[str]] = {}
    for e in writes:
        ref = e["objectRef"]
        key = (ref.get("resource", ""), ref["namespace"], ref.get("name", ""))
        by_object.setdefault(key, set()).add(e["user"]["username"])
    for (resource, namespace, name), users in by_object.items():
        owner = identity(0 if namespace == zero else 1)
        assert users == {owner}, f"{resource} {namespace}/{name} written by {users}"
    status_written = {
        (key[1], key[2]) for key in by_object if key[0] in ("components", "apis", "systems")
    }
    expected = {(ns, obj["metadata"]["name"]) for ns, obj in catalog(zero, one)}
    assert status_written == expected


def test_a_standby_takes_over_its_shard_only(shards: Shards) -> None:
    kubectl, zero, one = shards.kubectl, shards.zero, shards.one
    for namespace, obj in catalog(zero, one):
        kubectl.apply(as_json(obj), namespace)
    ready(kubectl, "component", "web", zero)
    active = active_replica(shards, f"component:{zero}/web: status patched")
    assert active in ("0a", "0b")
    standby = "0b" if active == "0a" else "0a"
    marker = flush_marker(kubectl, shards.cluster.audit_log, SYSTEM_NS)

    shards.replicas[active].stop(signal.SIGKILL)
    started = time.monotonic()
    web = entity("Component", "web", type="service", lifecycle="deprecated",
                 system=f"system:{one}/shop", providesApis=[f"api:{one}/checkout-api"])  # fmt: skip
    kubectl.apply(as_json(web), zero)
    late = entity("Component", "late", type="service", lifecycle="production",
                  system=f"system:{one}/shop")  # fmt: skip
    kubectl.apply(as_json(late), zero)
    kubectl.condition_at("component", "web", zero, "Ready", 2)
    ready(kubectl, "component", "late", zero)
    print(f"\nshard 0's standby reconciled after {time.monotonic() - started:.1f}s")
    assert active_replica(shards, f"component:{zero}/late: status patched") == standby

    def late_is_a_member() -> None:  # shard 1 rolls up a member shard 0 just wrote
        shop = kubectl.get("system", "shop", one)
        assert shop is not None
        assert f"component:{zero}/late" in [m["ref"] for m in shop["status"]["members"]]

    eventually(late_is_a_member)
    flush_marker(kubectl, shards.cluster.audit_log, SYSTEM_NS)
    after = shards.writes(after=marker)
    into_zero = {e["user"]["username"] for e in after if e["objectRef"]["namespace"] == zero}
    into_one = {e["user"]["username"] for e in after if e["objectRef"]["namespace"] == one}
    assert into_zero == {identity(0)}, into_zero
    assert into_one == {identity(1)}, into_one

    # deleting a Component: its owner (the standby now) cleans up and lets it go
    kubectl.run("delete", "component", "dash-zero", "-n", zero, "--timeout=30s")
    kubectl.run("delete", "component", "dash-one", "-n", one, "--timeout=30s")


def test_a_relabelled_namespace_moves_to_its_new_shard(shards: Shards) -> None:
    """Both shards watch the namespace: the new owner re-queues its entities at once, the
    old one stops writing them."""
    kubectl = shards.kubectl
    moving = f"shard-moving-{uuid.uuid4().hex[:6]}"
    kubectl.run("create", "namespace", moving)
    kubectl.run("label", "namespace", moving, "portico.dev/shard=1")
    try:
        kubectl.apply(as_json(entity("System", "roaming")), moving)
        ready(kubectl, "system", "roaming", moving)
        before = {e["user"]["username"] for e in shards.writes(namespaces=(moving,))}
        assert before == {identity(1)}, before
        marker = flush_marker(kubectl, shards.cluster.audit_log, SYSTEM_NS)
        kubectl.run("label", "namespace", moving, "portico.dev/shard=0", "--overwrite")
        kubectl.apply(as_json(entity("System", "roaming", owner="group:other")), moving)
        kubectl.condition_at("system", "roaming", moving, "Ready", 2)
        flush_marker(kubectl, shards.cluster.audit_log, SYSTEM_NS)
        after = {e["user"]["username"] for e in shards.writes(marker, (moving,))}
        assert after == {identity(0)}, after
    finally:
        kubectl.run("delete", "namespace", moving, "--wait=false", check=False)
