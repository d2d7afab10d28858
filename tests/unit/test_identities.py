"""External identities are injective and fit where they go, and Portico never writes over what
another entity owns. The matrix: Application names, the `portico.dev/entity` label and the
Grafana dashboard uid and tag, for names that differ only in where the dash falls
(`a/b-c` and `a-b/c`), for the longest names Kubernetes allows, and the Argo CD step facing
an Application at its name with another owner's label, and an API server that answers 422."""

import itertools
import json
import re
from typing import Any

import httpx
import pytest

from portico.clients.kube import KubeClient
from portico.domain.argocd import (
    ENTITY_LABEL,
    ENTITY_REF_ANNOTATION,
    LABEL_MAX,
    app_from_body,
    app_name,
    entity_label,
)
from portico.domain.dashboards import component_tag, dashboard_uid
from portico.domain.delivery import desired_application
from portico.domain.entity import EntityView, view_from_body
from portico.domain.refs import EntityKey
from portico.domain.tenancy import tenant_for
from portico.models.component import ArgoCD
from portico.models.config import OperatorConfig
from portico.reconcilers.argocd import ArgoCDStep, app_path
from portico.reconcilers.catalog import CatalogEngine

LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN = re.compile(rf"{DNS_LABEL}(\.{DNS_LABEL})*")
NS63 = "n" * 61 + "-x"  # the longest namespace
NAME253 = ".".join(["a" * 62, "b" * 62, "c" * 62, "d" * 63])  # the longest object name
KEYS = [
    EntityKey("component", "a", "b-c"),
    EntityKey("component", "a-b", "c"),
    EntityKey("component", "a-b-c", "d"),
    EntityKey("component", "a", "b-c-d"),
    EntityKey("component", "shop", "checkout"),
    EntityKey("component", "shop", "checkout.v2"),
    EntityKey("component", NS63, "checkout"),
    EntityKey("component", NS63, NAME253),
    EntityKey("component", NS63, NAME253[:-1] + "e"),
    EntityKey("component", "t-1", "x" * 40),  # around the point where the form changes
    EntityKey("component", "t-1", "x" * 41),
    EntityKey("component", "t-1", "x" * 42),
    EntityKey("component", "t-1", "x" * 52),
    EntityKey("component", "t-1", "x" * 53),
    EntityKey("api", "a", "b-c"),
]


def test_names_that_differ_only_where_the_dash_falls_get_different_applications() -> None:
    one, other = EntityKey("component", "a", "b-c"), EntityKey("component", "a-b", "c")
    assert app_name(one) != app_name(other)
    assert app_name(one).startswith("a-b-c-")  # still readable
    assert re.fullmatch(r"a-b-c-[0-9a-f]{8}", app_name(one))
    assert app_name(one) == app_name(EntityKey("component", "a", "b-c"))  # deterministic


@pytest.mark.parametrize("identity", [app_name, entity_label])
def test_identities_are_injective_and_fit_a_label_value(identity: Any) -> None:
    seen = {identity(key): key for key in KEYS}
    components = [key for key in KEYS if key.kind == "component"]
    if identity is app_name:  # the kind is not part of an Application's name
        seen = {identity(key): key for key in components}
        assert len(seen) == len(components)
    else:
        assert len(seen) == len(KEYS)
    for value in seen:
        assert len(value) <= LABEL_MAX, value
        assert LABEL_VALUE.fullmatch(value), value
        if identity is app_name:
            assert DNS_SUBDOMAIN.fullmatch(value), value


def test_the_entity_label_no_longer_overflows_and_stays_readable() -> None:
    short = EntityKey("component", "shop", "checkout")
    assert re.fullmatch(r"component\.shop\.checkout\.[0-9a-f]{8}", entity_label(short))
    long = EntityKey("component", NS63, NAME253)
    assert len(f"{long.kind}.{long.namespace}.{long.name}") > LABEL_MAX  # what failed with 422
    label = entity_label(long)
    assert len(label) <= LABEL_MAX
    assert label.startswith(f"component.{NS63[:30]}")


def test_short_and_long_forms_never_meet() -> None:
    """A Component named like another's hashed suffix does not get its label or name."""
    long = EntityKey("component", "t-1", "x" * 60)
    label, name = entity_label(long), app_name(long)
    forged_label = EntityKey("component", "t-1", label.split(".", 2)[2])
    forged_name = EntityKey("component", "t-1", name.removeprefix("t-1-"))
    assert entity_label(forged_label) != label
    assert app_name(forged_name) != name


def test_every_pair_of_keys_differs_in_dashboard_uid_and_tag() -> None:
    components = [key for key in KEYS if key.kind == "component"]
    for one, other in itertools.combinations(components, 2):
        assert dashboard_uid(one) != dashboard_uid(other)
        assert component_tag(one) != component_tag(other)
    for key in components:
        assert len(dashboard_uid(key)) <= 40
        assert re.fullmatch(r"[A-Za-z0-9_-]+", dashboard_uid(key))
        assert len(component_tag(key).encode()) <= 50  # Grafana's limit per tag
    assert component_tag(EntityKey("component", "shop", "checkout")) == (
        "portico-component:shop.checkout"
    )


# --- the Application Portico applies, and the engine reading it back -----------------------
NOW = "2026-01-01T00:00:00Z"
CONFIG = OperatorConfig.model_validate(
    {"tenancy": {"rules": [{"namespaces": ["*"], "publish": {"githubOwners": ["acme"]}}]}}
)


def component_view(namespace: str, name: str) -> EntityView:
    return view_from_body(
        "Component",
        {
            "kind": "Component",
            "metadata": {"name": name, "namespace": namespace, "uid": name, "generation": 1},
            "spec": {
                "type": "service",
                "lifecycle": "production",
                "owner": "group:team",
                "source": {"github": {"owner": "acme", "repo": "checkout"}},
                "deploy": {"argocd": {"path": "deploy"}},
            },
        },
    )


def planned(key: EntityKey) -> dict[str, Any]:
    plan = desired_application(
        key,
        ArgoCD(),
        "https://github.com/acme/checkout.git",
        None,
        tenant_for(key.namespace, {}, CONFIG),
        CONFIG,
    )
    assert isinstance(plan, dict)
    return plan


def test_the_application_carries_the_bounded_label_and_the_full_reference() -> None:
    key = EntityKey("component", NS63, NAME253)
    meta = planned(key)["metadata"]
    assert meta["name"] == app_name(key)
    assert meta["labels"][ENTITY_LABEL] == entity_label(key)
    assert meta["annotations"][ENTITY_REF_ANNOTATION] == f"component:{NS63}/{NAME253}"


async def test_an_application_queues_its_component_by_the_reference_annotation() -> None:
    engine = CatalogEngine(KubeClient(httpx.AsyncClient(base_url="https://api")))
    key = EntityKey("component", NS63, NAME253)  # a label that cannot be parsed back
    engine.observe_application(app_from_body(planned(key)))
    assert len(engine.queue) == 1
    assert await engine.queue.get() == key
    # A reference the label does not agree with queues nobody.
    other = EntityKey("component", "shop", "checkout")
    forged = dict(planned(other))
    forged["metadata"] = {**forged["metadata"], "labels": planned(key)["metadata"]["labels"]}
    engine2 = CatalogEngine(KubeClient(httpx.AsyncClient(base_url="https://api")))
    engine2.observe_application(app_from_body(forged))
    assert len(engine2.queue) == 0


# --- the Argo CD step against a fake API server --------------------------------------------
class Graph:
    def __init__(self, apps: dict[tuple[str, str], Any]) -> None:
        self.apps = apps

    def get(self, key: EntityKey) -> EntityView | None:
        return None

    def application(self, namespace: str, name: str) -> Any:
        return self.apps.get((namespace, name))

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        return {}


def fake_api(apply_status: int = 200) -> tuple[KubeClient, list[tuple[str, str]]]:
    calls: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path))
        if request.url.path == "/apis/argoproj.io/v1alpha1":
            return httpx.Response(200, json={"resources": [{"name": "applications"}]})
        if request.method == "GET":
            return httpx.Response(404, json={"message": "not found"})
        if "/applications/" in request.url.path and apply_status != 200:
            return httpx.Response(
                apply_status, json={"message": "Application.argoproj.io is invalid"}
            )
        return httpx.Response(200, json=json.loads(request.content or b"{}"))

    http = httpx.AsyncClient(base_url="https://api", transport=httpx.MockTransport(handler))
    return KubeClient(http), calls


async def test_an_application_with_another_owners_label_is_not_applied_over() -> None:
    view = component_view("a", "b-c")
    name = app_name(view.key)
    theirs = planned(EntityKey("component", "a-b", "c"))
    theirs["metadata"]["name"] = name  # as if the names had collided (or someone made it)
    kube, calls = fake_api()
    step = ArgoCDStep(kube)
    out = await step.run(view, Graph({("argocd", name): app_from_body(theirs)}), CONFIG, NOW)
    assert out is not None
    assert out.condition["status"] == "False"
    assert out.condition["reason"] == "ApplicationConflict"
    assert entity_label(EntityKey("component", "a-b", "c")) in out.condition["message"]
    assert "component:a-b/c" in out.condition["message"]
    assert out.application is None  # its health is not reported as ours
    assert ("PATCH", app_path("argocd", name)) not in calls


async def test_an_application_nobody_labelled_is_not_applied_over_either() -> None:
    view = component_view("shop", "checkout")
    name = app_name(view.key)
    handmade = {"metadata": {"name": name, "namespace": "argocd"}, "spec": {}}
    kube, calls = fake_api()
    out = await ArgoCDStep(kube).run(
        view, Graph({("argocd", name): app_from_body(handmade)}), CONFIG, NOW
    )
    assert out is not None
    assert out.condition["reason"] == "ApplicationConflict"
    assert "has no portico.dev/entity label" in out.condition["message"]
    assert not [c for c in calls if c[0] == "PATCH" and "/applications/" in c[1]]


async def test_our_own_application_is_applied() -> None:
    view = component_view("shop", "checkout")
    kube, calls = fake_api()
    out = await ArgoCDStep(kube).run(view, Graph({}), CONFIG, NOW)
    assert out is not None
    assert out.condition["reason"] == "ApplicationApplied"
    assert ("PATCH", app_path("argocd", app_name(view.key))) in calls


async def test_an_invalid_application_is_this_steps_condition_not_a_failed_reconcile() -> None:
    """The API server's 422 (e.g. a label it refuses) becomes Deployed=False ApplyFailed."""
    view = component_view("shop", "checkout")
    kube, _ = fake_api(apply_status=422)
    out = await ArgoCDStep(kube).run(view, Graph({}), CONFIG, NOW)
    assert out is not None
    assert out.condition["status"] == "False"
    assert out.condition["reason"] == "ApplyFailed"
    assert "is invalid" in out.condition["message"]
    assert out.retry_after
