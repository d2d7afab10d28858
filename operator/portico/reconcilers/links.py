"""The `links` step: a Component's docs and dashboard links in `status.links`
(domain/links.py decides). It reads only the entity and what the steps before it wrote (the
repository, the dashboard), so it runs after them and never calls anything."""

from portico.domain.delivery import repository_url
from portico.domain.links import derived_links
from portico.models.component import ComponentSpec
from portico.reconcilers.outcome import StepOutcome
from portico.reconcilers.steps import StepContext


class LinksStep:
    name = "links"
    condition = "LinksResolved"  # only reported if the step failed

    async def __call__(self, ctx: StepContext) -> StepOutcome | None:
        view = ctx.view
        if not isinstance(view.spec, ComponentSpec):
            return None
        repository = repository_url(view.spec, view.status, view.annotations)
        return StepOutcome(
            fields={"links": derived_links(view.annotations, repository, view.status)}
        )
