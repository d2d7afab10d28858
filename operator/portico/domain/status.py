"""The status each entity should have, computed from its view and the catalog graph.

`desired_status` is the decision; `status_patch` compares it with what is stored and returns
the smallest merge patch, or None when nothing changed (an idle catalog writes nothing).
"""

from collections.abc import Mapping
from typing import Any, Protocol

from portico.domain.alerts import alert_signal
from portico.domain.argocd import (
    APP_NAME_ANNOTATION,
    AppView,
    argocd_signal,
    argocd_status,
)
from portico.domain.argocd_waits import unreconciled
from portico.domain.conditions import (
    OBSERVED,
    REFS_RESOLVED,
    VALID,
    cond,
    merge_conditions,
    summary_ready,
)
from portico.domain.definitions import CHECKS
from portico.domain.delivery import deploy_settings
from portico.domain.entity import EntityView
from portico.domain.health import Signal, aggregate, counts, rollup
from portico.domain.refs import EntityKey
from portico.domain.relations import Edge, relations_of
from portico.domain.tenancy import observe_refusal, tenant_for
from portico.domain.upgrades import component_update_state, template_counts
from portico.domain.workloads import Selector, WorkloadView, kubernetes_signal
from portico.models.api import ApiSpec
from portico.models.component import ComponentSpec
from portico.models.config import OperatorConfig

# Status fields this decision owns; others (repository, argocd, kopf, ...) are left alone.
OWNED: dict[str, tuple[str, ...]] = {
    "component": (
        "observedGeneration",
        "conditions",
        "relations",
        "health",
        "argocd",
        "repository",
        "grafana",
        "links",
        "ci",
        "scorecard",
    ),
    "api": (
        "observedGeneration",
        "conditions",
        "relations",
        "providers",
        "consumers",
        "definition",
        "health",
        "scorecard",
    ),
    "system": (
        "observedGeneration",
        "conditions",
        "relations",
        "members",
        "summary",
        "counts",
        "health",
        "scorecard",
    ),
    "template": (
        "observedGeneration",
        "conditions",
        "relations",
        "scaffolded",
        "tests",
        "testSummary",
        "version",
        "versions",
        "updates",
        "updateSummary",
        "scorecard",
    ),
}


class Graph(Protocol):
    """What a decision may ask of the catalog."""

    def get(self, key: EntityKey) -> EntityView | None: ...

    def incoming(self, key: EntityKey) -> list[Edge]: ...

    def workloads(self, namespace: str, selector: Selector) -> list[WorkloadView]:
        """At least the workloads in `namespace` that `selector` matches."""
        ...

    def namespace_labels(self, namespace: str) -> dict[str, str]: ...

    def application(self, namespace: str, name: str) -> AppView | None: ...


def refs_condition(view: EntityView, graph: Graph) -> dict[str, Any]:
    if view.problems:
        return cond(REFS_RESOLVED, False, "InvalidReference", "; ".join(view.problems))
    missing = sorted(
        {str(e.target) for e in view.edges if e.target.served and graph.get(e.target) is None}
    )
    if missing:
        noun = "reference" if len(missing) == 1 else "references"
        return cond(
            REFS_RESOLVED,
            False,
            "ReferenceNotFound",
            f"{noun} not found: {', '.join(missing)}; create "
            f"{'it' if len(missing) == 1 else 'them'} or fix the spec",
        )
    checked = sum(1 for e in view.edges if e.target.served)
    return cond(REFS_RESOLVED, True, "AllFound", f"{checked} catalog references resolved")


def _sources(incoming: list[Edge], type_: str) -> list[str]:
    return sorted(str(e.source) for e in incoming if e.type == type_)


def _scaffolded(graph: Graph, refs: list[str]) -> list[EntityView]:
    """The Components of `refs` that have a repository."""
    out = []
    for ref in refs:
        kind, _, rest = ref.partition(":")
        namespace, _, name = rest.partition("/")
        member = graph.get(EntityKey(kind, namespace, name))
        if member is not None and (member.status.get("repository") or {}).get("commit"):
            out.append(member)
    return out


def _member_health(graph: Graph, refs: list[str]) -> list[tuple[str, str | None, str]]:
    out = []
    for ref in refs:
        kind, _, rest = ref.partition(":")
        namespace, _, name = rest.partition("/")
        member = graph.get(EntityKey(kind, namespace, name))
        out.append(
            (ref, member.health if member else None, member.health_message if member else "")
        )
    return out


def observed_application(
    view: EntityView,
    config: OperatorConfig,
    deployed: tuple[str, str] | None,
    deploys: bool = False,
) -> tuple[str, str] | None:
    """The Argo CD Application a Component reports on: the one Portico applied for it, else
    one named by Backstage's `argocd/app-name` annotation (`name` or `namespace/name`), unless
    the Component deploys through Argo CD itself (`deploys`: by its own spec.deploy.argocd or
    its Template's defaults), whose Application is the one Portico applies or none."""
    if deployed is not None:
        return deployed
    named = view.annotations.get(APP_NAME_ANNOTATION)
    if named and isinstance(view.spec, ComponentSpec) and not deploys:
        namespace, _, name = named.rpartition("/")
        return (namespace or config.argocd.namespace, name)
    return None


AlertSnapshot = tuple[tuple[dict[str, str], ...] | None, str | None]


def workload_signal(view: EntityView, graph: Graph, config: OperatorConfig) -> Signal | None:
    """The Kubernetes signal, read only from a namespace the tenancy policy lets it observe."""
    target = view.kubernetes
    if target is None:
        return None
    if target.namespace != view.key.namespace:
        tenant = tenant_for(view.key.namespace, graph.namespace_labels(view.key.namespace), config)
        refusal = observe_refusal(tenant, target.namespace)
        if refusal is not None:
            return Signal("kubernetes", "Unknown", refusal.message, refusal.reason)
    return kubernetes_signal(
        target.namespace, target.selector, graph.workloads(target.namespace, target.selector)
    )


def health_signals(
    view: EntityView,
    graph: Graph,
    incoming: list[Edge],
    app: tuple[str, str] | None = None,
    alerts: AlertSnapshot | None = None,
    config: OperatorConfig | None = None,
    now: str | None = None,
) -> list[Signal]:
    """Every configured source's signal for this entity (sources later issues add go here).

    With `now`, an Application no Argo CD controller has acted on for
    `argocd.unresponsiveSeconds` gives an Unknown argocd signal (domain/argocd_waits.py).
    """
    kind = view.key.kind
    signals: list[Signal] = []
    config = config or OperatorConfig()
    if kind == "component":
        workloads = workload_signal(view, graph, config)
        if workloads is not None:
            signals.append(workloads)
    if kind == "component" and view.alerts is not None:
        firing, error = alerts if alerts is not None else (None, "Prometheus is not configured")
        signals.append(alert_signal(view.alerts, firing, error))
    if kind == "component" and app is not None:
        live = graph.application(*app)
        silent = None
        if now is not None:
            silent, _ = unreconciled(live, now, config.argocd.unresponsive_seconds)
        signals.append(silent or argocd_signal(live, "/".join(app)))
    elif kind == "api":
        providers = _sources(incoming, "providesApi")
        if not providers:
            signals.append(Signal("providers", "Missing", "no Component provides this API"))
        else:
            signal = rollup(_member_health(graph, providers), what="providers", detail=False)
            if signal is not None:
                signals.append(Signal("providers", signal.status, signal.message, signal.reason))
    elif kind == "system":
        signal = rollup(_member_health(graph, _sources(incoming, "partOf")), what="members")
        if signal is not None:
            signals.append(signal)
    return signals


def observed_condition(signals: list[Signal]) -> dict[str, Any] | None:
    """Observed: every configured health source could be read (None: no source at all)."""
    if not signals:
        return None
    unread = [s for s in signals if s.status == "Unknown"]
    if unread:
        return cond(
            OBSERVED,
            False,
            unread[0].reason or "SourceUnreadable",
            "; ".join(f"{s.source}: {s.message}" for s in unread),
        )
    names = ", ".join(sorted({s.source for s in signals}))
    return cond(OBSERVED, True, "SourcesRead", f"health read from {names}")


def desired_status(
    view: EntityView,
    graph: Graph,
    *,
    now: str,
    config: OperatorConfig | None = None,
    conditions: list[dict[str, Any]] | None = None,
    fields: dict[str, Any] | None = None,
    deployed_app: tuple[str, str] | None = None,
    alerts: AlertSnapshot | None = None,
    signals: list[Signal] | None = None,
) -> dict[str, Any]:
    """The owned part of the entity's status.

    `conditions` and `fields` come from the steps that act (scaffolding, Argo CD, Template
    checks); `deployed_app` is the Application the Argo CD step applied; `signals` are the
    health signals steps read (CI), beside the sources decided here.
    """
    config = config or OperatorConfig()
    incoming = graph.incoming(view.key)
    wanted = [refs_condition(view, graph), *(conditions or [])]
    status: dict[str, Any] = {"observedGeneration": view.generation, **(fields or {})}
    kind = view.key.kind
    app = (
        observed_application(view, config, deployed_app, deploy_settings(view, graph) is not None)
        if kind == "component"
        else None
    )
    if app is not None:
        status["argocd"] = argocd_status(graph.application(*app), "/".join(app))
    if kind != "template":
        read = health_signals(view, graph, incoming, app, alerts, config, now)
        read += signals or []
        status["health"] = aggregate(read, view.status.get("health"), now=now)
        observed = observed_condition(read)
        if observed is not None:
            wanted.append(observed)
    if kind == "api":
        status["providers"] = _sources(incoming, "providesApi")
        status["consumers"] = _sources(incoming, "consumesApi")
        if isinstance(view.spec, ApiSpec):
            valid, message = CHECKS(view.spec.type, view.spec.definition)  # cached per content
            status["definition"] = {"valid": valid, "message": message}
            wanted.append(
                cond(
                    VALID,
                    valid,
                    "DefinitionParsed" if valid else "DefinitionInvalid",
                    f"spec.definition: {message}",
                )
            )
    elif kind == "system":
        members = sorted(set(_sources(incoming, "partOf")))
        health = _member_health(graph, members)
        status["members"] = [
            {"ref": ref, **({"health": h, "message": m} if h else {})} for ref, h, m in health
        ]
        status["counts"] = counts(h for _, h, _ in health)
        n_comp = sum(1 for m in members if m.startswith("component:"))
        n_api = sum(1 for m in members if m.startswith("api:"))
        status["summary"] = f"{n_comp} components, {n_api} apis"
    elif kind == "template":
        scaffolded = _scaffolded(graph, _sources(incoming, "scaffoldedFrom"))
        status["scaffolded"] = len(scaffolded)
        if scaffolded:
            versions, updates, summary = template_counts(
                component_update_state(member.status) for member in scaffolded
            )
            status |= {"versions": versions, "updates": updates, "updateSummary": summary}
    wanted.append(summary_ready(wanted))
    status["conditions"] = merge_conditions(
        view.status.get("conditions") or [], wanted, generation=view.generation, now=now
    )
    status["relations"] = [
        {"type": t, "target": target} for t, target in relations_of(view.key, view.edges, incoming)
    ]
    return status


def merge_diff(current: Any, desired: Any) -> Any:
    """The JSON merge patch (RFC 7386) turning `current` into `desired`.

    Maps merge under a merge patch, so a key that disappears must be sent as null; lists and
    scalars are replaced whole.
    """
    if not isinstance(current, Mapping) or not isinstance(desired, Mapping):
        return desired
    patch: dict[str, Any] = {}
    for key, value in desired.items():
        if key not in current:
            patch[key] = value
        elif current[key] != value:
            patch[key] = merge_diff(current[key], value)
    for key in current:
        if key not in desired:
            patch[key] = None
    return patch


def status_patch(
    current: Mapping[str, Any], desired: Mapping[str, Any], owned: tuple[str, ...]
) -> dict[str, Any] | None:
    """The merge patch turning the owned part of `current` into `desired`, or None."""
    patch: dict[str, Any] = {}
    for key in owned:
        want = desired.get(key)
        have = current.get(key)
        if want is None:
            if have is not None:
                patch[key] = None
        elif have != want:
            patch[key] = merge_diff(have, want)
    return patch or None
