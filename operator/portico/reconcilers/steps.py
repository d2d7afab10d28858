"""Steps as data: what each kind's reconcile does, as an ordered list of steps.

A step is one capability (scaffolding, a dashboard, an Argo CD Application, a Template's
checks). It gets a `StepContext` and returns a `StepOutcome` (conditions, status fields,
when to look again, and for deploy steps the Application to report on), or None when it has
nothing to say. `run_steps` runs a kind's steps in order; the status fields a step returns
are visible to the steps after it (Argo CD deploys the repository scaffolding just made).
A step's failure is isolated to the condition it owns: a step that raises gets that
condition (Unknown for a transient error, False otherwise) and a retry time, and the other
steps, the health and the status write go on.

Finishers run after the status is decided (health included) and before it is written: a
scorecard, which reads that health, is one. They are told after the write, to post Events.

A new capability is a new step (or finisher) module plus one entry in the engine's lists:
`CatalogEngine.reconcile` does not change.
"""

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from portico.domain.conditions import cond
from portico.domain.entity import EntityView
from portico.domain.health import Signal
from portico.domain.refs import EntityKey
from portico.errors import PorticoError, TransientError
from portico.models.config import OperatorConfig
from portico.reconcilers.outcome import StepOutcome

log = logging.getLogger("portico.steps")
FAILED_RETRY = 30.0  # seconds before a step that raised runs again


@dataclass(frozen=True)
class StepContext:
    """What a step may read: the entity (with the status written so far), the catalog graph
    over kopf's indexes, the configuration in force, and the reconcile's clock."""

    view: EntityView
    graph: Any  # reconcilers.graph.IndexGraph; each step states the protocol it needs
    config: OperatorConfig
    now: str


class Step(Protocol):
    """One capability of a kind's reconcile."""

    @property
    def name(self) -> str: ...

    @property
    def condition(self) -> str:
        """The condition type this step owns (its failures are reported there)."""
        ...

    async def __call__(self, ctx: StepContext) -> StepOutcome | None: ...


class Finisher(Protocol):
    """A capability decided on the status about to be written (a scorecard reads the health
    this reconcile computed), and told once that status is written (to post an Event)."""

    @property
    def name(self) -> str: ...

    def finish(self, ctx: StepContext, status: Mapping[str, Any]) -> dict[str, Any]:
        """Status fields to add to `status` (the owned fields about to be written)."""
        ...

    async def written(
        self, ctx: StepContext, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> None:
        """The status went from `before` to `after` (only called when it was written)."""
        ...

    def forget(self, key: EntityKey) -> None:
        """The entity is gone."""
        ...


def finish(
    finishers: Sequence[Finisher], ctx: StepContext, status: dict[str, Any]
) -> dict[str, Any]:
    """`status` with what each finisher adds; one that raises adds nothing (logged), and the
    write goes on: its field keeps the value it had."""
    for finisher in finishers:
        try:
            status |= finisher.finish(ctx, status)
        except Exception:
            log.exception("%s: %s raised", ctx.view.key, finisher.name)
            kept = {k: ctx.view.status.get(k) for k in getattr(finisher, "fields", ())}
            status |= kept
    return status


@dataclass
class Collected:
    """Everything a kind's steps said, merged in order."""

    conditions: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    retries: list[float] = field(default_factory=list)
    application: tuple[str, str] | None = None
    signals: list[Signal] = field(default_factory=list)
    view: EntityView | None = None  # the view with the fields the steps wrote

    @property
    def retry_after(self) -> float | None:
        return min(self.retries) if self.retries else None


def failed(step: Step, e: Exception) -> StepOutcome:
    """A step that raised: its own condition says so, with a retry; nothing else is lost."""
    if isinstance(e, TransientError):
        wait = e.retry_after or FAILED_RETRY
        return StepOutcome(
            [cond(step.condition, None, "Retrying", f"{e}; retrying in {wait:.0f}s")], {}, wait
        )
    reason = "StepFailed" if isinstance(e, PorticoError) else "StepError"
    return StepOutcome([cond(step.condition, False, reason, f"{step.name}: {e}")], {}, FAILED_RETRY)


async def run_steps(steps: Sequence[Step], ctx: StepContext) -> Collected:
    out = Collected(view=ctx.view)
    for step in steps:
        try:
            outcome = await step(ctx)
        except Exception as e:
            if isinstance(e, PorticoError):
                log.warning("%s: step %s failed: %s", ctx.view.key, step.name, e)
            else:
                log.exception("%s: step %s raised", ctx.view.key, step.name)
            outcome = failed(step, e)
        if outcome is None:
            continue
        out.conditions += outcome.conditions
        out.fields |= outcome.fields
        if outcome.retry_after:
            out.retries.append(outcome.retry_after)
        if outcome.application is not None:
            out.application = outcome.application
        out.signals += outcome.signals
        if outcome.fields:  # later steps see what earlier ones wrote
            status: Mapping[str, Any] = {**ctx.view.status, **outcome.fields}
            ctx = dataclasses.replace(ctx, view=dataclasses.replace(ctx.view, status=status))
    out.view = ctx.view
    return out
