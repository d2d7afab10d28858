"""Grafana dashboards, acted on: one per Component that asks (or whose Template says so), in
a folder per System, written only when its content hash changed, never over a dashboard
Portico did not create, removed with the Component. Grafana being down affects only the
DashboardReady condition; the rest of the reconcile goes on."""

import hashlib
import json
import logging
from typing import Any, Protocol

from portico.clients.grafana import GrafanaClient
from portico.clients.kube import KubeClient
from portico.clients.sandbox import Renderers
from portico.domain.conditions import DASHBOARD_READY, cond
from portico.domain.dashboards import (
    TAG,
    content_hash,
    dashboard_uid,
    default_template,
    folder_for,
    render_dashboard,
)
from portico.domain.entity import EntityView
from portico.domain.refs import EntityKey, InvalidRef, parse_ref
from portico.domain.templates import template_of
from portico.errors import CleanupPending, Conflict, PorticoError, RejectedError, TransientError
from portico.metrics import EXTERNAL_CALLS
from portico.models.component import ComponentSpec
from portico.models.config import OperatorConfig
from portico.reconcilers.holdoff import Holdoff, held_call
from portico.reconcilers.outcome import StepOutcome
from portico.reconcilers.secrets import read_token
from portico.reconcilers.steps import StepContext
from portico.rendering.skeleton import RenderError

log = logging.getLogger("portico.dashboards")


class DashboardGraph(Protocol):
    def get(self, key: EntityKey) -> EntityView | None: ...


def wants_dashboard(view: EntityView, graph: DashboardGraph) -> bool:
    spec = view.spec
    if not isinstance(spec, ComponentSpec):
        return False
    if spec.observe and spec.observe.grafana is not None:
        return spec.observe.grafana.dashboard
    template = template_of(view, graph)
    defaults = template.defaults if template else None
    grafana = defaults.observe.grafana if defaults and defaults.observe else None
    return bool(grafana and grafana.dashboard)


def _system(view: EntityView) -> EntityKey | None:
    spec = view.spec
    if not isinstance(spec, ComponentSpec) or not spec.system:
        return None
    try:
        return parse_ref(spec.system, default_kind="system", default_namespace=view.key.namespace)
    except InvalidRef:
        return None


class DashboardStep:
    """A Component's Grafana dashboard (step `dashboard`)."""

    name = "dashboard"
    condition = DASHBOARD_READY

    def __init__(self, kube: KubeClient, config_namespace: str, renderers: Renderers) -> None:
        self._kube = kube
        self._config_namespace = config_namespace
        self._renderers = renderers
        # Template dashboards rendered in the sandbox, by Component: (content digest, the
        # model or the error). Rendered again only when the template or the labels change.
        self._rendered: dict[EntityKey, tuple[str, dict[str, Any] | RenderError]] = {}
        # One client, for the URL and token in force; a rotated token closes the old one.
        self._grafana: tuple[tuple[str, str], GrafanaClient] | None = None
        self._holdoff: Holdoff[StepOutcome] = Holdoff()

    async def _render(
        self,
        template: str,
        key: EntityKey,
        labels: dict[str, str] | None,
        config: OperatorConfig,
    ) -> dict[str, Any]:
        """A Template's dashboard (tenant input), rendered in the sandbox once per content."""
        digest = hashlib.sha256(json.dumps([template, labels], sort_keys=True).encode()).hexdigest()
        known = self._rendered.get(key)
        if known is None or known[0] != digest:
            args = {
                "template": template,
                "key": {"kind": key.kind, "namespace": key.namespace, "name": key.name},
                "alertLabels": labels,
            }
            try:
                result = await self._renderers.for_config(config.scaffold).run(
                    "dashboard_render", args
                )
                known = (digest, dict(result["model"]))
            except RenderError as e:
                known = (digest, e)
            self._rendered[key] = known
        if isinstance(known[1], RenderError):
            raise known[1]
        return known[1]

    def forget(self, key: EntityKey) -> None:
        self._rendered.pop(key, None)

    async def _client(self, config: OperatorConfig) -> GrafanaClient | str:
        if config.grafana.url is None:
            return "no Grafana configured (grafana.url in portico-config)"
        token = await read_token(self._kube, self._config_namespace, config.grafana.token_secret)
        if token is None:
            return (
                f"Secret {self._config_namespace}/{config.grafana.token_secret} (key token) "
                "is missing"
            )
        key = (config.grafana.url, token)
        if self._grafana is None or self._grafana[0] != key:
            old = self._grafana
            self._grafana = (key, GrafanaClient(config.grafana.url, token))
            if old is not None:
                await old[1].aclose()
        return self._grafana[1]

    async def __call__(self, ctx: StepContext) -> StepOutcome | None:
        return await self.run(ctx.view, ctx.graph, ctx.config)

    async def run(
        self, view: EntityView, graph: DashboardGraph, config: OperatorConfig
    ) -> StepOutcome | None:
        # Grafana failed recently: the outcome it had, until the retry time.
        return await held_call(
            self._holdoff, (view.key, view.generation), lambda: self._run(view, graph, config)
        )

    async def _run(
        self, view: EntityView, graph: DashboardGraph, config: OperatorConfig
    ) -> StepOutcome | None:
        if view.key.kind != "component":
            return None
        existing = view.status.get("grafana") or {}
        if view.deleting:  # the cleanup handler removes it, and needs the record until then
            return StepOutcome([], {"grafana": dict(existing)}) if existing else None
        if not wants_dashboard(view, graph):
            if existing.get("dashboardUid"):
                await self.remove(view, config)
            return None
        spec = view.spec
        assert isinstance(spec, ComponentSpec)
        labels = (
            spec.observe.prometheus.alert_labels
            if spec.observe and spec.observe.prometheus
            else None
        )
        template = template_of(view, graph)
        try:
            if template is not None and template.dashboard:
                model = await self._render(template.dashboard, view.key, labels, config)
            else:  # Portico's own template: trusted, rendered here
                model = render_dashboard(default_template(), view.key, labels)
        except RenderError as e:
            reason = "DashboardInvalid" if e.reason == "RenderFailed" else e.reason
            return StepOutcome([cond(DASHBOARD_READY, False, reason, str(e))])
        folder_uid, folder_title = folder_for(_system(view))
        digest = content_hash(model, folder_uid)
        if existing.get("contentHash") == digest and existing.get("dashboardUid") == model["uid"]:
            return StepOutcome(
                [
                    cond(
                        DASHBOARD_READY,
                        True,
                        "DashboardUpToDate",
                        f"dashboard {model['uid']} is up to date",
                    )
                ],
                {"grafana": dict(existing)},
            )
        client = await self._client(config)
        if isinstance(client, str):
            return StepOutcome(
                [cond(DASHBOARD_READY, False, "GrafanaNotConfigured", client)],
                {"grafana": dict(existing)} if existing else {},
                60.0,
            )
        try:
            saved = await self._save(client, model, folder_uid, folder_title)
            EXTERNAL_CALLS.labels("grafana", "success").inc()
        except Conflict as e:
            return StepOutcome(
                [cond(DASHBOARD_READY, False, "DashboardConflict", str(e))],
                {"grafana": dict(existing)} if existing else {},
                300.0,
            )
        except TransientError as e:
            EXTERNAL_CALLS.labels("grafana", "error").inc()
            return StepOutcome(
                [cond(DASHBOARD_READY, False, "GrafanaUnreachable", f"{e}; retrying in 30s")],
                {"grafana": dict(existing)} if existing else {},
                30.0,
            )
        except PorticoError as e:
            EXTERNAL_CALLS.labels("grafana", "error").inc()
            retry = 300.0 if isinstance(e, RejectedError) else 60.0
            return StepOutcome(
                [cond(DASHBOARD_READY, False, "GrafanaRejected", str(e))],
                {"grafana": dict(existing)} if existing else {},
                retry,
            )
        grafana = {
            "dashboardUid": model["uid"],
            "url": f"{client.url}{saved.get('url', '')}",
            "contentHash": digest,
        }
        log.info("%s: dashboard %s saved in folder %s", view.key, model["uid"], folder_title)
        return StepOutcome(
            [
                cond(
                    DASHBOARD_READY,
                    True,
                    "DashboardSaved",
                    f"dashboard {model['uid']} in folder {folder_title}",
                )
            ],
            {"grafana": grafana},
        )

    async def _save(
        self, client: GrafanaClient, model: dict[str, Any], folder_uid: str, folder_title: str
    ) -> dict[str, Any]:
        if await client.folder(folder_uid) is None:
            await client.create_folder(folder_uid, folder_title)
        live = await client.dashboard(model["uid"])
        if live is not None and TAG not in (live.get("dashboard") or {}).get("tags", []):
            raise Conflict(
                "grafana",
                f"dashboard {model['uid']} exists and was not created by "
                "Portico (no 'portico' tag); it is left untouched",
                status=409,
            )
        try:
            return await client.save_dashboard(
                model, folder_uid, overwrite=live is not None, message="Portico"
            )
        except Conflict as e:
            if "name-exists" in e.body:
                raise Conflict(
                    "grafana",
                    f"a dashboard titled {model['title']!r} already exists "
                    f"in folder {folder_title}; Portico does not overwrite it",
                    status=412,
                ) from e
            raise

    async def remove(self, view: EntityView, config: OperatorConfig) -> None:
        """Delete the Component's dashboard (only if Portico's), and its folder once empty."""
        if not (view.status.get("grafana") or {}).get("dashboardUid"):
            return  # never had one
        client = await self._client(config)
        if isinstance(client, str):
            raise CleanupPending(f"cannot remove dashboard {dashboard_uid(view.key)}: {client}")
        uid = dashboard_uid(view.key)
        live = await client.dashboard(uid)
        if live is None or TAG not in (live.get("dashboard") or {}).get("tags", []):
            return
        await client.delete_dashboard(uid)
        log.info("%s: dashboard %s deleted", view.key, uid)
        folder_uid = (live.get("meta") or {}).get("folderUid")
        if folder_uid and folder_uid.startswith("portico-"):
            left = await client.search(type="dash-db", folderUIDs=folder_uid)
            if not left:
                await client.delete_folder(folder_uid)
