"""Alerts from a real Prometheus (Debian's package) and Portico's own metrics: a rule fires
on a value the test controls, the Component turns Degraded naming the alert and Healthy when
it resolves; Prometheus stopped gives Unknown with the reason and recovers after a restart;
the same Prometheus scrapes Portico's /metrics and PromQL finds its reconcile counter."""

from collections.abc import Iterator
from typing import Any

import pytest

from support.config import changed_config
from support.kubectl import Kubectl
from support.manifests import as_json, entity
from support.operator import OperatorProcess
from support.poll import eventually
from support.prometheus import Exporter, Prometheus

pytestmark = pytest.mark.usefixtures("operator")


@pytest.fixture(scope="module")
def prometheus(
    kubectl: Kubectl, operator: OperatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Prometheus, Exporter]]:
    exporter = Exporter()
    targets = {"app": f"127.0.0.1:{exporter.port}", "portico": f"127.0.0.1:{operator.metrics_port}"}
    prom = Prometheus(tmp_path_factory.mktemp("prometheus"), targets).start()
    with changed_config(kubectl, prometheus={"url": prom.url, "interval": 1}):
        try:
            yield prom, exporter
        finally:
            prom.stop()
            exporter.stop()


def watched_component(name: str) -> str:
    observe = {"prometheus": {"alertLabels": {"service": "checkout"}}}
    return as_json(
        entity("Component", name, type="service", lifecycle="production", observe=observe)
    )


def health(
    kubectl: Kubectl, name: str, ns: str, status: str, timeout: float = 30
) -> dict[str, Any]:
    def check() -> dict[str, Any]:
        obj = kubectl.get("component", name, ns)
        assert obj is not None
        h = obj.get("status", {}).get("health") or {}
        assert h.get("status") == status, h
        return dict(h)

    return eventually(check, timeout=timeout)


def test_a_firing_alert_degrades_the_component_until_it_resolves(
    kubectl: Kubectl, namespace: str, prometheus: tuple[Prometheus, Exporter]
) -> None:
    _, exporter = prometheus
    kubectl.apply(watched_component("checkout"), namespace)
    h = health(kubectl, "checkout", namespace, "Healthy")
    assert h["message"] == "prometheus: 0 alerts firing"
    exporter.value = 3
    h = health(kubectl, "checkout", namespace, "Degraded")
    assert h["reason"] == "PrometheusDegraded"
    assert "CheckoutErrors" in h["message"]
    exporter.value = 0
    health(kubectl, "checkout", namespace, "Healthy")


def test_prometheus_down_is_unknown_with_a_reason_and_recovers(
    kubectl: Kubectl, namespace: str, prometheus: tuple[Prometheus, Exporter]
) -> None:
    prom, _ = prometheus
    kubectl.apply(watched_component("ledger"), namespace)
    health(kubectl, "ledger", namespace, "Healthy")
    prom.stop()
    try:
        h = health(kubectl, "ledger", namespace, "Unknown")
        assert "unreachable" in h["message"]
        assert prom.url in h["message"]
    finally:
        prom.start()
    health(kubectl, "ledger", namespace, "Healthy")


def test_prometheus_scrapes_porticos_own_metrics(
    prometheus: tuple[Prometheus, Exporter], kubectl: Kubectl, namespace: str
) -> None:
    prom, _ = prometheus

    def reconciles() -> float:
        result = prom.query('sum(portico_reconciles_total{result="success"})')
        assert result, "no portico_reconciles_total scraped yet"
        return float(result[0]["value"][1])

    assert eventually(reconciles, timeout=30) > 0
    entities = prom.query('portico_entities{kind="component"}')
    assert entities, "portico_entities not scraped"
