"""Health aggregation: the documented two-signal table, cell by cell; observedAt stability;
roll-ups that name the worst member; workload judgements as Argo CD makes them."""

import itertools

import pytest

from portico.domain.health import ORDER, Signal, aggregate, counts, rollup
from portico.domain.workloads import (
    Selector,
    WorkloadView,
    kubernetes_signal,
    parse_selector_string,
    selector_from,
    workload_from_body,
)

H, P, M, D, U = "Healthy", "Progressing", "Missing", "Degraded", "Unknown"

# The README's table: row = first signal, column = second signal, cell = aggregated health.
TABLE = {
    H: {H: H, P: P, M: M, D: D, U: U},
    P: {H: P, P: P, M: M, D: D, U: U},
    M: {H: M, P: M, M: M, D: D, U: U},
    D: {H: D, P: D, M: D, D: D, U: U},
    U: {H: U, P: U, M: U, D: U, U: U},
}


@pytest.mark.parametrize(("a", "b"), list(itertools.product(ORDER, ORDER)))
def test_every_pair_of_signals_gives_the_documented_health(a: str, b: str) -> None:
    health = aggregate([Signal("kubernetes", a, "k"), Signal("prometheus", b, "p")], None, now="t")
    assert health is not None
    assert health["status"] == TABLE[a][b]
    assert len(health["signals"]) == 2


def test_no_configured_source_means_no_health() -> None:
    assert aggregate([], None, now="t") is None


def test_reason_and_message_name_the_worst_source() -> None:
    health = aggregate(
        [Signal("kubernetes", P, "1/3 replicas available"), Signal("argocd", D, "sync failed")],
        None,
        now="t",
    )
    assert health is not None
    assert health["reason"] == "ArgoCDDegraded"
    assert health["message"] == "argocd: sync failed"


def test_observed_at_moves_only_when_the_signal_changes() -> None:
    first = aggregate([Signal("kubernetes", H, "3/3")], None, now="2026-01-01T00:00:00Z")
    same = aggregate([Signal("kubernetes", H, "3/3")], first, now="2026-02-02T00:00:00Z")
    assert same == first
    changed = aggregate([Signal("kubernetes", P, "2/3")], first, now="2026-02-02T00:00:00Z")
    assert changed is not None
    assert changed["signals"][0]["observedAt"] == "2026-02-02T00:00:00Z"


def test_rollup_names_components_before_apis_and_skips_unobserved_members() -> None:
    signal = rollup(
        [
            ("api:shop/cart-api", D, "providers: component:shop/cart is Degraded"),
            ("component:shop/cart", D, "kubernetes: Deployment cart: rollout stuck"),
            ("component:shop/web", H, "ok"),
            ("component:shop/docs", None, ""),
        ],
        what="members",
    )
    assert signal is not None
    assert signal.status == D
    assert signal.reason == "MemberDegraded"
    assert signal.message.startswith("2 of 3 members not Healthy: component:shop/cart is Degraded")
    assert "rollout stuck" in signal.message
    assert rollup([("component:shop/docs", None, "")], what="members") is None
    assert counts([H, H, None, D]) == {"Degraded": 1, "Healthy": 2, "NotObserved": 1}


def deployment(want: int = 3, **status: object) -> dict[str, object]:
    return {
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "generation": 2, "labels": {"app": "w"}},
        "spec": {"replicas": want},
        "status": {"observedGeneration": 2, **status},
    }


DEADLINE = {
    "type": "Progressing",
    "status": "False",
    "reason": "ProgressDeadlineExceeded",
    "message": 'ReplicaSet "web-1" has timed out progressing.',
}


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (deployment(want=3, replicas=3, updatedReplicas=3, availableReplicas=3), H, "3/3"),
        (deployment(want=3, updatedReplicas=1, availableReplicas=3), P, "1/3 replicas updated"),
        (deployment(want=3, replicas=4, updatedReplicas=3, availableReplicas=3), P, "old replicas"),
        (
            deployment(want=3, replicas=3, updatedReplicas=3, availableReplicas=2),
            P,
            "2/3 replicas available",
        ),
        (deployment(want=0, updatedReplicas=0), H, "0/0"),
        (deployment(conditions=[DEADLINE]), D, 'progress deadline: ReplicaSet "web-1"'),
        ({**deployment(), "status": {"observedGeneration": 1}}, P, "observe the new generation"),
        ({**deployment(), "spec": {"replicas": 3, "paused": True}}, P, "paused"),
        (
            {
                "kind": "StatefulSet",
                "metadata": {"name": "db", "generation": 1},
                "spec": {"replicas": 2},
                "status": {"observedGeneration": 1, "readyReplicas": 1},
            },
            P,
            "1/2 replicas ready",
        ),
        (
            {
                "kind": "DaemonSet",
                "metadata": {"name": "agent", "generation": 1},
                "spec": {},
                "status": {
                    "observedGeneration": 1,
                    "desiredNumberScheduled": 2,
                    "updatedNumberScheduled": 2,
                    "numberAvailable": 2,
                },
            },
            H,
            "2/2 pods",
        ),
    ],
)
def test_workload_judgement(body: dict[str, object], status: str, says: str) -> None:
    view = workload_from_body(body)
    assert view.status == status
    assert says in view.message


def test_no_matching_workload_is_missing_and_names_the_selector() -> None:
    other = WorkloadView("Deployment", "shop", "other", {"app": "other"}, H, "1/1")
    signal = kubernetes_signal("shop", Selector((("app", "cart"),)), [other])
    assert signal.status == M
    assert "namespace shop matches app=cart" in signal.message


def test_selectors() -> None:
    sel = selector_from(
        {
            "matchLabels": {"app": "cart"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}],
        }
    )
    assert sel.matches({"app": "cart", "tier": "web"})
    assert not sel.matches({"app": "cart", "tier": "db"})
    assert not sel.matches({"app": "cart"})
    assert not Selector().matches({"app": "cart"})  # empty selects nothing, never everything
    assert parse_selector_string("app=cart, tier==web").matches({"app": "cart", "tier": "web"})
