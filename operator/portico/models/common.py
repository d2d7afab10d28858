"""Status building blocks shared by every kind: conditions, relations, health."""

from typing import Annotated, Any, Literal

from pydantic import Field

from portico.models.base import LIST_MAX, FreeForm, Model

HealthStatus = Literal["Healthy", "Progressing", "Missing", "Degraded", "Unknown"]
ConditionStatus = Literal["True", "False", "Unknown"]


class EntityMeta(Model):
    """The part of metadata the operator reads."""

    name: str
    namespace: str = "default"
    uid: str = ""
    generation: int = 0
    resource_version: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class Condition(Model):
    """A metav1.Condition."""

    type: str
    status: ConditionStatus
    reason: str
    message: str = ""
    last_transition_time: Annotated[str, Field(json_schema_extra={"format": "date-time"})]
    observed_generation: int | None = None


class Relation(Model):
    """One edge of the catalog graph, seen from this entity (Backstage's relation types)."""

    type: str
    target: str = Field(description="Full entity reference kind:namespace/name.")


class HealthSignal(Model):
    """What one source says about the entity's health."""

    source: str
    status: HealthStatus
    reason: str | None = None
    message: str = ""
    observed_at: str | None = None


class Health(Model):
    """The aggregated health: the worst signal wins."""

    status: HealthStatus
    reason: str | None = None
    message: str = ""
    signals: list[HealthSignal] = Field(default_factory=list)


class CheckResult(Model):
    """One scorecard check's answer for the entity."""

    name: str
    level: str
    result: Literal["Pass", "Fail"]
    message: str = ""


class Scorecard(Model):
    """The entity's scorecard (models/scorecards.py): its level and every check's answer."""

    level: str = Field(
        description="The highest level whose checks, and every lower level's, all pass; "
        "none when the first level's do not."
    )
    passed: int = 0
    total: int = 0
    message: str = Field(default="", description="What the next level needs.")
    checks: list[CheckResult] = Field(default_factory=list)


CONDITIONS_FIELD: Any = Field(
    default_factory=list,
    json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
)


class StatusBase(Model):
    """Fields every kind's status carries."""

    observed_generation: int | None = None
    conditions: list[Condition] = CONDITIONS_FIELD
    relations: list[Relation] = Field(default_factory=list)
    health: Health | None = None
    scorecard: Scorecard | None = None
    kopf: FreeForm | None = Field(
        default=None,
        description="The operator framework's own bookkeeping; not for users.",
    )


# Backstage's metadata.title, tags and links, kept in spec (docs/api.md says why).
TAG_PATTERN = r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$"
Title = Annotated[
    str | None, Field(max_length=256, description="A display name (Backstage's metadata.title).")
]
Tag = Annotated[str, Field(min_length=1, max_length=63, pattern=TAG_PATTERN)]
TAGS_FIELD: Any = Field(
    default_factory=list,
    max_length=LIST_MAX,
    description="Backstage's metadata.tags: [a-z0-9:+#] joined by -, e.g. java, c++.",
    json_schema_extra={"x-kubernetes-list-type": "set"},
)
TagList = list[Tag]


class Link(Model):
    """An external link (Backstage's metadata.links)."""

    url: Annotated[str, Field(max_length=2048, pattern=r"^[A-Za-z][-A-Za-z0-9+.]*:\S+$")]
    title: Annotated[str | None, Field(max_length=256)] = None
    icon: Annotated[str | None, Field(max_length=256)] = None
    type: Annotated[str | None, Field(max_length=256)] = None


LINKS_FIELD: Any = Field(
    default_factory=list, max_length=LIST_MAX, description="Backstage's metadata.links."
)
