"""The scorecard finisher: status.scorecard from the status about to be written
(domain/scorecard.py decides), an Event when the level moves because the entity changed (not
when an admin changed the checks: that is logged, not one Event per entity), and the
`portico_scorecard_checks{check,result}` gauge, counted per entity this process writes."""

import logging
from collections.abc import Mapping
from typing import Any

from portico.clients.kube import KubeClient
from portico.domain.events import scorecard_event
from portico.domain.refs import EntityKey
from portico.domain.scorecard import level_change, scorecard
from portico.metrics import SCORECARD_CHECKS, SCORECARD_LEVELS
from portico.models.scorecards import ScorecardConfig
from portico.reconcilers.events import post_event
from portico.reconcilers.steps import StepContext

log = logging.getLogger("portico.scorecard")
Tally = dict[tuple[str, str], int]


class ScorecardFinisher:
    name = "scorecard"
    fields = ("scorecard",)

    def __init__(self, kube: KubeClient, instance: str) -> None:
        self._kube = kube
        self._instance = instance
        self._results: dict[EntityKey, tuple[tuple[str, str], ...]] = {}
        self.tally: Tally = {}
        # The scorecard configuration each entity's last card was made with: a level that
        # moves because an admin changed the checks is not news about the entity, and on a
        # large catalog it would be one Event per entity.
        self._basis: dict[EntityKey, ScorecardConfig] = {}
        self._rescored: set[EntityKey] = set()

    def finish(self, ctx: StepContext, status: Mapping[str, Any]) -> dict[str, Any]:
        key, basis = ctx.view.key, ctx.config.scorecards
        card = scorecard(basis, ctx.view, status)
        if ctx.graph.get(key) is not None:  # not deleted while the steps awaited
            self._count(key, card)
            before = self._basis.get(key)
            self._basis[key] = basis
            if before is not None and before != basis:
                self._rescored.add(key)
        return {"scorecard": card}

    async def written(
        self, ctx: StepContext, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> None:
        change = level_change(
            ctx.config.scorecards.levels, before.get("scorecard"), after.get("scorecard")
        )
        rescored = ctx.view.key in self._rescored
        self._rescored.discard(ctx.view.key)
        if change is None:
            return
        old, new, down = change
        if rescored:
            log.info("%s: scorecard level %s -> %s (the checks changed)", ctx.view.key, old, new)
            return
        view = ctx.view
        message = str((after.get("scorecard") or {}).get("message", ""))
        event = scorecard_event(
            view.key, view.uid, old, new, down, message, now=ctx.now, instance=self._instance
        )
        log.info("%s: %s", view.key, event["note"])
        SCORECARD_LEVELS.labels(view.key.kind, new).inc()
        await post_event(self._kube, event, f"the scorecard event of {view.key}")

    def forget(self, key: EntityKey) -> None:
        self._count(key, None)
        self._basis.pop(key, None)
        self._rescored.discard(key)

    def _count(self, key: EntityKey, card: Mapping[str, Any] | None) -> None:
        """Move the gauge by this entity's change only (no re-count of the catalog)."""
        now = tuple((c["name"], c["result"]) for c in (card or {}).get("checks") or ())
        before = self._results.pop(key, ())
        if card is not None:
            self._results[key] = now
        if before == now:
            return
        for labels in before:
            self._add(labels, -1)
        for labels in now:
            self._add(labels, 1)

    def _add(self, labels: tuple[str, str], delta: int) -> None:
        count = self.tally.get(labels, 0) + delta
        if count:
            self.tally[labels] = count
            SCORECARD_CHECKS.labels(*labels).set(count)
        else:
            self.tally.pop(labels, None)
            SCORECARD_CHECKS.remove(*labels)
