"""The four kinds Portico serves: names, printer columns and the models behind them."""

from dataclasses import dataclass, field
from typing import Any

from portico.models.api import ApiSpec, ApiStatus
from portico.models.base import Model
from portico.models.component import COMPONENT_RULES, ComponentSpec, ComponentStatus
from portico.models.system import SystemSpec, SystemStatus
from portico.models.template import TEMPLATE_RULES, TemplateSpec, TemplateStatus

GROUP = "portico.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
CATEGORY = "catalog"

READY = '.status.conditions[?(@.type=="Ready")].status'


def column(name: str, path: str, type_: str = "string", priority: int = 0) -> dict[str, Any]:
    col: dict[str, Any] = {"name": name, "type": type_, "jsonPath": path}
    if priority:
        col["priority"] = priority
    return col


AGE = column("Age", ".metadata.creationTimestamp", "date")
LEVEL = ".status.scorecard.level"  # the scorecard's level (default checks score Components)


@dataclass(frozen=True)
class KindInfo:
    kind: str
    plural: str
    short_names: tuple[str, ...]
    spec: type[Model]
    status: type[Model]
    columns: tuple[dict[str, Any], ...]
    rules: tuple[dict[str, Any], ...] = field(default=())
    description: str = ""

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def ref_kind(self) -> str:
        """The kind as written in entity references (component, api, ...)."""
        return self.kind.lower()


KINDS: tuple[KindInfo, ...] = (
    KindInfo(
        kind="Component",
        plural="components",
        short_names=("pcomp",),
        spec=ComponentSpec,
        status=ComponentStatus,
        columns=(
            column("Type", ".spec.type"),
            column("Owner", ".spec.owner"),
            column("System", ".spec.system"),
            column("Lifecycle", ".spec.lifecycle"),
            column("Health", ".status.health.status"),
            column("Sync", ".status.argocd.sync"),
            column("Level", LEVEL),
            AGE,
            column("Ready", READY, priority=1),
            column("UpToDate", '.status.conditions[?(@.type=="UpToDate")].status', priority=1),
            column("Message", ".status.health.message", priority=1),
        ),
        rules=tuple(COMPONENT_RULES),
        description="A piece of software: a service, website or library.",
    ),
    KindInfo(
        kind="API",
        plural="apis",
        short_names=("papi",),
        spec=ApiSpec,
        status=ApiStatus,
        columns=(
            column("Type", ".spec.type"),
            column("Owner", ".spec.owner"),
            column("System", ".spec.system"),
            column("Lifecycle", ".spec.lifecycle"),
            column("Health", ".status.health.status"),
            AGE,
            column("Ready", READY, priority=1),
            column("Level", LEVEL, priority=1),
            column("Providers", ".status.providers", priority=1),
        ),
        description="An interface between Components.",
    ),
    KindInfo(
        kind="System",
        plural="systems",
        short_names=("psys",),
        spec=SystemSpec,
        status=SystemStatus,
        columns=(
            column("Owner", ".spec.owner"),
            column("Domain", ".spec.domain"),
            column("Health", ".status.health.status"),
            column("Members", ".status.summary"),
            AGE,
            column("Ready", READY, priority=1),
            column("Level", LEVEL, priority=1),
            column("Message", ".status.health.message", priority=1),
        ),
        description="A group of Components and APIs that make one capability.",
    ),
    KindInfo(
        kind="Template",
        plural="templates",
        short_names=("ptpl",),
        spec=TemplateSpec,
        status=TemplateStatus,
        columns=(
            column("Type", ".spec.type"),
            column("Owner", ".spec.owner"),
            column("Valid", '.status.conditions[?(@.type=="Valid")].status'),
            column("Tests", ".status.testSummary"),
            column("Used", ".status.scaffolded", "integer"),
            column("Updates", ".status.updateSummary"),
            AGE,
            column("Version", ".status.version", priority=1),
            column("Title", ".spec.title", priority=1),
        ),
        rules=tuple(TEMPLATE_RULES),
        description="A golden path: parameters, skeleton files and where to publish.",
    ),
)

_BY_NAME = {k.kind.lower(): k for k in KINDS} | {k.plural: k for k in KINDS}


def kind_info(name: str) -> KindInfo:
    """Look a kind up by kind name, reference kind or plural (case-insensitive)."""
    return _BY_NAME[name.lower()]
