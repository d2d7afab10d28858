"""Status building blocks shared by every kind: conditions, relations, health."""

from typing import Annotated, Any, Literal

from pydantic import Field

from portico.models.base import FreeForm, Model

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
    kopf: FreeForm | None = Field(
        default=None,
        description="The operator framework's own bookkeeping; not for users.",
    )
