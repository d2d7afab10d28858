"""Promised cleanup is not skipped: a Component whose dashboard cannot be removed yet
(Grafana's configuration is gone) keeps its finalizer, says why in a Warning Event, and is
deleted, with its dashboard, once Grafana is back."""

import json

import pytest

from fakes.grafana import FakeGrafana
from support.config import changed_config, read_config
from support.kubectl import Kubectl
from support.manifests import entity
from support.poll import eventually

pytestmark = pytest.mark.usefixtures("operator")


def test_a_dashboard_that_cannot_be_removed_yet_keeps_the_finalizer(
    kubectl: Kubectl, namespace: str, grafana: FakeGrafana
) -> None:
    comp = entity(
        "Component",
        "kept",
        type="service",
        lifecycle="production",
        observe={"grafana": {"dashboard": True}},
    )
    kubectl.apply(json.dumps(comp), namespace)

    def saved() -> str:
        obj = kubectl.get("component", "kept", namespace)
        assert obj is not None
        uid = (obj.get("status", {}).get("grafana") or {}).get("dashboardUid")
        assert uid, "no dashboard yet"
        return str(uid)

    uid = eventually(saved, timeout=30)
    grafana_section = read_config(kubectl).get("grafana") or {}
    with changed_config(kubectl, grafana={}):  # no Grafana configured: removal cannot run
        eventually(lambda: _no_grafana_url(kubectl))
        kubectl.run("delete", "component", "kept", "-n", namespace, "--wait=false")

        def warned() -> None:
            events = kubectl.run(
                "get", "events", "-n", namespace, "--field-selector",
                "involvedObject.name=kept,type=Warning", "-o", "json",
            )  # fmt: skip
            notes = [e.get("message", "") for e in json.loads(events.stdout)["items"]]
            every = kubectl.run("get", "events", "-n", namespace, "-o", "json").stdout
            assert any("cannot remove dashboard" in n for n in notes), every[-3000:]

        eventually(warned, timeout=30)
        obj = kubectl.get("component", "kept", namespace)
        assert obj is not None, "deleted although its dashboard was not removed"
        assert "portico.dev/cleanup" in obj["metadata"].get("finalizers", [])
        assert grafana.dashboard(uid) is not None
    assert grafana_section  # restored on leaving the block
    eventually(lambda: _gone(kubectl, namespace), timeout=60)
    assert grafana.dashboard(uid) is None


def _no_grafana_url(kubectl: Kubectl) -> None:
    assert not (read_config(kubectl).get("grafana") or {}).get("url")


def _gone(kubectl: Kubectl, namespace: str) -> None:
    assert kubectl.get("component", "kept", namespace) is None
