"""The `links` step: a Component's docs and dashboard links in `status.links`
(domain/links.py decides). It reads only the entity, what the steps before it wrote (the
repository, the dashboard) and, when given one, the dashboards Grafana's last search matched
for the Component's `grafana/dashboard-selector` (reconcilers/dashboard_search.py); it runs
after those steps and never calls anything.

A selector that cannot be parsed selects nothing and is reported on `LinksResolved` (False,
`DashboardSelectorInvalid`, the message naming the annotation and the position); a valid one
reports nothing, as before."""

from typing import Protocol

from portico.domain.conditions import LINKS_RESOLVED, cond
from portico.domain.dashboard_selector import selector_problem
from portico.domain.delivery import repository_url
from portico.domain.entity import EntityView
from portico.domain.links import derived_links
from portico.models.component import ComponentSpec
from portico.reconcilers.outcome import StepOutcome
from portico.reconcilers.steps import StepContext

SELECTOR_INVALID = "DashboardSelectorInvalid"


class DashboardMatches(Protocol):
    def matches(self, view: EntityView) -> list[dict[str, str]] | None:
        """status.links entries for the Component's selected dashboards, or None when there
        is nothing to add (no selector, no Grafana, not searched yet)."""
        ...


class LinksStep:
    name = "links"
    condition = LINKS_RESOLVED  # reported when the step failed or the selector is invalid

    def __init__(self, dashboards: DashboardMatches | None = None) -> None:
        self._dashboards = dashboards

    async def __call__(self, ctx: StepContext) -> StepOutcome | None:
        view = ctx.view
        if not isinstance(view.spec, ComponentSpec):
            return None
        repository = repository_url(view.spec, view.status, view.annotations)
        problem = selector_problem(view.annotations)
        selected = None
        if problem is None and self._dashboards is not None:
            selected = self._dashboards.matches(view)
        conditions = [cond(LINKS_RESOLVED, False, SELECTOR_INVALID, problem)] if problem else []
        return StepOutcome(
            conditions,
            {"links": derived_links(view.annotations, repository, view.status, selected)},
        )
