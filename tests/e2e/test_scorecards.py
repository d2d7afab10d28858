"""Scorecards on the real API server: the LEVEL column follows the entity as it changes, each
change is an Event, a cluster admin's own checks replace the defaults, and bad CEL is
reported on the ConfigMap while the last good configuration stays in force."""

import json
from typing import Any

import pytest

from support.config import changed_config
from support.events import events
from support.kubectl import Kubectl
from support.poll import eventually

pytestmark = pytest.mark.usefixtures("operator")


def component(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "portico.dev/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, **spec.pop("metadata", {})},
        "spec": {"type": "service", "lifecycle": "experimental", "owner": "group:team-a", **spec},
    }


def card(kubectl: Kubectl, name: str, namespace: str, level: str) -> dict[str, Any]:
    def check() -> dict[str, Any]:
        got = kubectl.get("component", name, namespace)
        assert got is not None
        scorecard: dict[str, Any] = (got.get("status") or {}).get("scorecard") or {}
        assert scorecard.get("level") == level, scorecard
        return scorecard

    return eventually(check, timeout=30)


def level_column(kubectl: Kubectl, name: str, namespace: str) -> str:
    """The LEVEL cell of `kubectl get` (cells are aligned under their headers; empty ones
    show as <none>)."""
    header, row = kubectl.run("get", "component", name, "-n", namespace).stdout.splitlines()[:2]
    return row[header.index("LEVEL") :].split()[0]


def test_the_level_follows_the_component_with_an_event_each_time(
    kubectl: Kubectl, namespace: str
) -> None:
    kubectl.apply(json.dumps(component("scored")), namespace)
    first = card(kubectl, "scored", namespace, "none")
    assert first["message"].startswith("bronze needs: description (set spec.description)")
    failing = {c["name"] for c in first["checks"] if c["result"] == "Fail"}
    assert {"description", "system"} <= failing
    assert level_column(kubectl, "scored", namespace) == "none"

    better = component(
        "scored",
        description="Scores things",
        system="scoring",
        metadata={"annotations": {
            "backstage.io/techdocs-ref": "url:https://docs.acme.example/scored",
            "grafana/overview-dashboard": "https://grafana.acme.example/d/scored",
        }},
    )  # fmt: skip
    kubectl.apply(json.dumps(better), namespace)
    now = card(kubectl, "scored", namespace, "silver")
    passing = {c["name"] for c in now["checks"] if c["result"] == "Pass"}
    assert {"owner", "description", "system", "docs", "dashboard"} <= passing
    assert now["message"].startswith("gold needs: alerts")  # and CI, which needs a repository
    assert level_column(kubectl, "scored", namespace) == "silver"

    def announced() -> dict[str, Any]:
        (event,) = events(kubectl, namespace, "scored", "ScorecardLevelChanged")
        return event

    event = eventually(announced, timeout=15)
    assert event["type"] == "Normal"
    assert event["message"].startswith("Scorecard level none -> silver")

    kubectl.apply(json.dumps(component("scored")), namespace)  # the description goes again
    card(kubectl, "scored", namespace, "none")

    def warned() -> None:
        found = events(kubectl, namespace, "scored", "ScorecardLevelChanged")
        assert [e["type"] for e in found if "silver -> none" in e["message"]] == ["Warning"]

    eventually(warned, timeout=15)


CUSTOM = {
    "levels": ["labelled", "tiered"],
    "checks": [
        {
            "name": "team-label",
            "level": "labelled",
            "expression": '"team" in self.metadata.labels',
            "message": "label it with its team",
        },
        {
            "name": "tier-one",
            "level": "tiered",
            "expression": 'has(self.spec.tags) && "tier-1" in self.spec.tags',
        },
    ],
}
BROKEN = {
    "levels": ["labelled"],
    "checks": [{"name": "broken-check", "level": "labelled", "expression": "self.spec.owner =="}],
}


def rejected(kubectl: Kubectl) -> list[str]:
    return [
        e["message"]
        for e in events(kubectl, "portico-system", "portico-config", "ConfigurationRejected")
    ]


def test_admins_checks_replace_the_defaults_and_bad_cel_keeps_the_last_good_ones(
    kubectl: Kubectl, namespace: str
) -> None:
    with changed_config(kubectl, scorecards=CUSTOM):
        labelled = component("labelled", metadata={"labels": {"team": "a"}})
        kubectl.apply(json.dumps(labelled), namespace)
        kubectl.apply(json.dumps(component("plain", tags=["tier-1"])), namespace)
        got = card(kubectl, "labelled", namespace, "labelled")
        assert [c["name"] for c in got["checks"]] == ["team-label", "tier-one"]
        plain = card(kubectl, "plain", namespace, "none")
        assert plain["message"] == "labelled needs: team-label (label it with its team)"

        with changed_config(kubectl, scorecards=BROKEN):
            reports = eventually(lambda: _one_naming(rejected(kubectl), "broken-check"), timeout=20)
            assert "the last good configuration stays in force" in reports
            # The last good configuration still scores what changes now.
            kubectl.run("label", "component/plain", "-n", namespace, "team=b")
            card(kubectl, "plain", namespace, "tiered")  # labelled, and tagged tier-1
            tiered = component("tiered", tags=["tier-1"], metadata={"labels": {"team": "c"}})
            kubectl.apply(json.dumps(tiered), namespace)
            card(kubectl, "tiered", namespace, "tiered")
    # Back to the defaults: the default levels again.
    assert card(kubectl, "tiered", namespace, "none")["checks"][0]["name"] == "owner"


def _one_naming(messages: list[str], check: str) -> str:
    naming = [m for m in messages if f"check {check}:" in m]
    assert naming, messages
    return naming[-1]
