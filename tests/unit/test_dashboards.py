"""Dashboards: a deterministic uid Grafana accepts, the golden-signal queries filtered to the
Component, identity fields Portico owns, a stable content hash; Portico's own dashboard only
queries metrics Portico exports."""

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

import portico.metrics  # noqa: F401  (registers the metrics)
from portico.domain.dashboards import (
    content_hash,
    dashboard_uid,
    default_template,
    folder_for,
    render_dashboard,
)
from portico.domain.refs import EntityKey

ROOT = Path(__file__).resolve().parents[2]
KEY = EntityKey("component", "payments", "checkout")


def test_uid_is_deterministic_and_fits_grafana() -> None:
    uid = dashboard_uid(KEY)
    assert uid == dashboard_uid(KEY)
    assert len(uid) <= 40
    assert re.fullmatch(r"[A-Za-z0-9_-]+", uid)
    assert uid != dashboard_uid(EntityKey("component", "shop", "checkout"))
    folder_uid, title = folder_for(EntityKey("system", "payments", "payments"))
    assert len(folder_uid) <= 40
    assert title == "payments/payments"


def test_default_dashboard_has_golden_signals_for_the_component() -> None:
    model = render_dashboard(default_template(), KEY, {"service": "checkout", "env": "prod"})
    assert model["uid"] == dashboard_uid(KEY)
    assert model["title"] == "payments/checkout"
    assert "portico" in model["tags"]
    exprs = [t["expr"] for p in model["panels"] for t in p["targets"]]
    assert len(exprs) == 4
    assert all('env="prod",service="checkout"' in e for e in exprs[:3])


def test_content_hash_changes_only_with_content() -> None:
    a = render_dashboard(default_template(), KEY, None)
    b = render_dashboard(default_template(), KEY, None)
    assert content_hash(a, "f") == content_hash(b, "f")
    assert content_hash(a, "f") != content_hash(a, "g")


def test_porticos_own_dashboard_queries_only_exported_metrics() -> None:
    dashboard = json.loads(
        (ROOT / "deploy" / "grafana" / "portico-operator-dashboard.json").read_text()
    )
    exported = {m.name for m in REGISTRY.collect()}
    exported |= {f"{n}_total" for n in exported} | {f"{n}_bucket" for n in exported}
    exported.add("portico_entities")
    used = {
        name
        for p in dashboard["panels"]
        for t in p["targets"]
        for name in re.findall(r"portico_[a-z_]+", t["expr"])
    }
    assert used
    assert used <= exported, used - exported
