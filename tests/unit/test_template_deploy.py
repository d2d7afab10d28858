"""A Template's `defaults.deploy.argocd` deploys the Components scaffolded from it. The matrix:
no `spec.deploy` (the defaults deploy it), `spec.deploy: {}` (opted out: nothing, and an
Application made from the defaults goes), `spec.deploy.argocd` (its fields over the defaults,
the destination's too), a Template that cannot be read (nothing is changed or deleted), the
cleanup's deletionPolicy (from the defaults as well), and Backstage's argocd/app-name
annotation, which a Component that deploys through its Template does not follow."""

import json
from typing import Any

import httpx
import pytest

from portico.clients.kube import KubeClient
from portico.domain.argocd import app_from_body, app_name, entity_label
from portico.domain.delivery import deletion_policy, deploy_settings, effective_argocd
from portico.domain.entity import EntityView, view_from_body
from portico.domain.refs import EntityKey
from portico.domain.status import desired_status
from portico.models.component import ArgoCD, ComponentSpec
from portico.models.config import OperatorConfig
from portico.reconcilers.argocd import ArgoCDStep, app_path
from portico.reconcilers.argocd_deletion import ApplicationDeletion, StillDeleting

NOW = "2026-01-01T00:10:00Z"
CONFIG = OperatorConfig()
DEFAULTS = {
    "path": "deploy",
    "targetRevision": "main",
    "deletionPolicy": "Orphan",
    "destination": {"namespace": "shop", "server": "https://kubernetes.default.svc"},
}
REPO = "https://github.com/acme/web.git"


def template(defaults: dict[str, Any] | None = DEFAULTS) -> EntityView:
    spec: dict[str, Any] = {"owner": "group:platform", "publish": {"github": {"owner": "acme"}}}
    if defaults is not None:
        spec["defaults"] = {"deploy": {"argocd": defaults}}
    body = {"kind": "Template", "metadata": {"name": "svc", "namespace": "shop"}, "spec": spec}
    return view_from_body("Template", body)


def component(
    name: str = "web",
    *,
    deleting: bool = False,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> EntityView:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "shop",
        "uid": f"uid-{name}",
        "generation": 1,
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:09:00Z"
    if annotations:
        meta["annotations"] = annotations
    body = {
        "kind": "Component",
        "metadata": meta,
        "spec": {
            "type": "service",
            "lifecycle": "production",
            "owner": "group:team",
            "scaffold": {"templateRef": {"name": "svc"}},
            **spec,
        },
        "status": {"repository": {"url": REPO}},
    }
    return view_from_body("Component", body)


class Catalog:
    """The graph a decision may ask: entities, Applications, namespaces' labels."""

    def __init__(self, *views: EntityView, apps: tuple[dict[str, Any], ...] = ()) -> None:
        self.views = {v.key: v for v in views}
        self.apps = {(a.namespace, a.name): a for a in map(app_from_body, apps)}

    def get(self, key: EntityKey) -> EntityView | None:
        return self.views.get(key)

    def application(self, namespace: str, name: str) -> Any:
        return self.apps.get((namespace, name))

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        return {}

    def incoming(self, key: EntityKey) -> list[Any]:
        return []

    def workloads(self, namespace: str, selector: Any) -> list[Any]:
        return []


def ours(key: EntityKey, **meta: Any) -> dict[str, Any]:
    """An Application Portico made for `key`, as the API server returns it."""
    return {
        "metadata": {
            "name": app_name(key),
            "namespace": "argocd",
            "labels": {"portico.dev/entity": entity_label(key)},
            "annotations": {"portico.dev/entity-ref": str(key)},
            "creationTimestamp": "2026-01-01T00:00:00Z",
            **meta,
        },
        "spec": {},
    }


class FakeAPI:
    """Argo CD's CRD is served; GET answers with `app` until it is deleted (or for ever with
    `sticky`, as Argo CD's finalizer would keep it); every request is recorded."""

    def __init__(self, app: dict[str, Any] | None = None, *, sticky: bool = False) -> None:
        self.app, self.sticky = app, sticky
        self.calls: list[tuple[str, str, Any]] = []
        handler = httpx.MockTransport(self._handle)
        self.kube = KubeClient(httpx.AsyncClient(base_url="https://api", transport=handler))

    def _handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.method, request.url.path, body))
        if request.url.path == "/apis/argoproj.io/v1alpha1":
            return httpx.Response(200, json={"resources": [{"name": "applications"}]})
        if request.method == "GET":
            if self.app is None or "/applications/" not in request.url.path:
                return httpx.Response(404, json={"message": "not found"})
            return httpx.Response(200, json=self.app)
        if request.method == "DELETE":
            if self.sticky and self.app is not None:
                self.app["metadata"]["deletionTimestamp"] = "2026-01-01T00:09:30Z"
            else:
                self.app = None
        return httpx.Response(200, json=body or {})

    def sent(self, method: str) -> list[tuple[str, Any]]:
        return [(path, body) for m, path, body in self.calls if m == method]


def spec_of(view: EntityView) -> ComponentSpec:
    assert isinstance(view.spec, ComponentSpec)
    return view.spec


# --- the decision ---------------------------------------------------------------------------
def test_without_spec_deploy_the_templates_defaults_deploy_it() -> None:
    settings = deploy_settings(component(), Catalog(template()))
    assert settings == ArgoCD.model_validate(DEFAULTS)


def test_an_empty_spec_deploy_opts_out_of_the_defaults() -> None:
    assert deploy_settings(component(deploy={}), Catalog(template())) is None


def test_without_defaults_or_a_template_nothing_deploys() -> None:
    assert deploy_settings(component(), Catalog(template(None))) is None
    assert deploy_settings(component(), Catalog()) is None
    plain = component()
    assert effective_argocd(spec_of(plain).model_copy(update={"scaffold": None}), None) is None


def test_the_components_own_fields_override_the_defaults_field_by_field() -> None:
    own = component(deploy={"argocd": {"path": "k8s", "destination": {"namespace": "shop-prod"}}})
    settings = deploy_settings(own, Catalog(template()))
    assert settings is not None
    assert settings.path == "k8s"
    assert settings.target_revision == "main"  # from the defaults
    assert settings.deletion_policy == "Orphan"
    assert settings.destination is not None
    assert settings.destination.namespace == "shop-prod"
    assert settings.destination.server == "https://kubernetes.default.svc"


def test_deletion_policy_comes_from_the_settings_else_from_what_was_applied() -> None:
    assert deletion_policy(ArgoCD.model_validate(DEFAULTS), None) == "Orphan"
    assert deletion_policy(ArgoCD(), None) == "Delete"
    applied = app_from_body(ours(EntityKey("component", "shop", "web")))
    assert deletion_policy(None, applied) == "Delete"
    body = ours(EntityKey("component", "shop", "web"))
    body["metadata"]["annotations"]["portico.dev/deletion-policy"] = "Orphan"
    assert deletion_policy(None, app_from_body(body)) == "Orphan"


# --- the step -------------------------------------------------------------------------------
async def test_the_step_applies_the_application_the_defaults_describe() -> None:
    api = FakeAPI()
    view = component()
    out = await ArgoCDStep(api.kube).run(view, Catalog(view, template()), CONFIG, NOW)
    assert out is not None
    assert out.condition["reason"] == "ApplicationApplied"
    applied = [body for path, body in api.sent("PATCH") if "/applications/" in path]
    assert len(applied) == 1
    app = applied[0]
    assert app["spec"]["source"] == {"repoURL": REPO, "path": "deploy", "targetRevision": "main"}
    assert app["metadata"]["annotations"]["portico.dev/deletion-policy"] == "Orphan"
    assert "finalizers" not in app["metadata"]  # Orphan: no cascade


async def test_opting_out_deletes_the_application_the_defaults_made() -> None:
    view = component(deploy={})
    app = ours(view.key)
    api = FakeAPI(app)
    out = await ArgoCDStep(api.kube).run(view, Catalog(view, template(), apps=(app,)), CONFIG, NOW)
    assert out is None
    assert [path for path, _ in api.sent("DELETE")] == [app_path("argocd", app_name(view.key))]


async def test_a_template_that_cannot_be_read_changes_and_deletes_nothing() -> None:
    view = component()
    app = ours(view.key)
    api = FakeAPI(app)
    out = await ArgoCDStep(api.kube).run(view, Catalog(view, apps=(app,)), CONFIG, NOW)
    assert out is not None
    assert out.condition["status"] == "Unknown"
    assert out.condition["reason"] == "TemplateNotFound"
    assert "template:shop/svc" in out.condition["message"]
    assert f"argocd/{app_name(view.key)} is left as it is" in out.condition["message"]
    assert out.application == ("argocd", app_name(view.key))  # still reported on
    assert not api.sent("DELETE")
    assert not api.sent("PATCH")


async def test_the_argo_cd_not_installed_message_names_the_way_to_opt_out() -> None:
    view = component()

    def missing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"message": "not found"})

    kube = KubeClient(
        httpx.AsyncClient(base_url="https://api", transport=httpx.MockTransport(missing))
    )
    out = await ArgoCDStep(kube).run(view, Catalog(view, template()), CONFIG, NOW)
    assert out is not None
    assert out.condition["reason"] == "ArgoCDNotInstalled"
    assert "spec.deploy: {}" in out.condition["message"]


# --- the cleanup ----------------------------------------------------------------------------
async def test_the_cleanup_takes_deletion_policy_from_the_templates_defaults() -> None:
    """Orphan from the defaults: Argo CD's finalizer is dropped before the delete, so the
    deployed resources stay."""
    view = component(deleting=True)
    app = ours(view.key, finalizers=["resources-finalizer.argocd.argoproj.io"])
    api = FakeAPI(app)
    deletion = ApplicationDeletion(api.kube, ArgoCDStep(api.kube))
    await deletion.cleanup(view, Catalog(view, template()), CONFIG, NOW)
    methods = [m for m, path, _ in api.calls if "/applications/" in path]
    assert methods == ["GET", "PATCH", "DELETE", "GET"]
    patch = api.sent("PATCH")[0][1]
    assert patch["metadata"]["finalizers"] == []


async def test_the_cleanup_waits_for_argo_cd_with_the_default_delete_policy() -> None:
    view = component(deleting=True)
    app = ours(view.key, finalizers=["resources-finalizer.argocd.argoproj.io"])
    api = FakeAPI(app, sticky=True)
    deletion = ApplicationDeletion(api.kube, ArgoCDStep(api.kube))
    defaults = {k: v for k, v in DEFAULTS.items() if k != "deletionPolicy"}
    with pytest.raises(StillDeleting) as raised:
        await deletion.cleanup(view, Catalog(view, template(defaults)), CONFIG, NOW)
    wait = raised.value.wait
    assert wait.reason == "WaitingForArgoCD"
    assert f"argocd/{app_name(view.key)}" in wait.message
    assert "deletionPolicy Delete" in wait.message
    assert not api.sent("PATCH")  # Argo CD's finalizer stays: it prunes


# --- what the Component reports on ----------------------------------------------------------
def test_a_component_deploying_through_its_template_ignores_the_app_name_annotation() -> None:
    """Backstage's argocd/app-name names an Application to report on, for Components Portico
    does not deploy; one its Template deploys reports on Portico's own (or none)."""
    annotated = {"argocd/app-name": "someone-elses"}
    view = component(annotations=annotated)
    status = desired_status(view, Catalog(view, template()), now=NOW, config=CONFIG)
    assert "argocd" not in status
    opted_out = component(annotations=annotated, deploy={})
    status = desired_status(opted_out, Catalog(opted_out, template()), now=NOW, config=CONFIG)
    assert status["argocd"]["application"] == "argocd/someone-elses"
