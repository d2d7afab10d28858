"""What a step of a reconcile gives back: conditions, status fields, health signals, and
when to look again."""

from dataclasses import dataclass, field
from typing import Any

from portico.domain.health import Signal


@dataclass(frozen=True)
class StepOutcome:
    """Conditions and status fields a step contributes, and when to look again."""

    conditions: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    retry_after: float | None = None
    application: tuple[str, str] | None = None  # the Argo CD Application to report on
    # Health signals this step read (CI runs): they join the entity's other signals.
    signals: tuple[Signal, ...] = ()
