"""status.links: docs from backstage.io/techdocs-ref resolved against the repository, the
dashboard (Portico's own, else grafana/overview-dashboard), then the dashboards a
grafana/dashboard-selector matched (after them, deduplicated, bounded); the links step with and
without a source of matches, and an invalid selector reported on LinksResolved."""

from typing import Any

import pytest

from portico.domain.entity import EntityView, view_from_body
from portico.domain.links import MAX_LINKS, derived_links, docs_url
from portico.models.config import OperatorConfig
from portico.reconcilers.links import LinksStep
from portico.reconcilers.steps import StepContext

REPO = "https://github.com/acme/checkout.git"


@pytest.mark.parametrize(
    ("ref", "repository", "branch", "url"),
    [
        ("dir:.", REPO, "main", "https://github.com/acme/checkout/tree/main/"),
        ("dir:./docs", REPO, "main", "https://github.com/acme/checkout/tree/main/docs/"),
        ("dir:docs/../site", REPO, None, "https://github.com/acme/checkout/tree/HEAD/site/"),
        ("dir:../other", REPO, "main", None),  # leaves the repository
        ("dir:/etc", REPO, "main", None),
        ("dir:.", "https://git.example.com/x.git", "main", None),  # no standard web form
        ("dir:.", None, "main", None),
        ("dir:.", "https://github.com/acme/..", "main", None),  # not a repository name
        ("dir:.", "https://github.com/acme/.", "main", None),
        (
            "url:https://docs.acme.example/checkout",
            None,
            None,
            "https://docs.acme.example/checkout",
        ),
        ("url:javascript:alert(1)", REPO, "main", None),
        ("url:file:///etc/passwd", REPO, "main", None),
        ("nonsense", REPO, "main", None),
    ],
)
def test_docs_url(ref: str, repository: str | None, branch: str | None, url: str | None) -> None:
    assert docs_url(ref, repository, branch) == url


def test_portico_s_dashboard_wins_over_the_annotation_and_nothing_is_none() -> None:
    notes = {
        "backstage.io/techdocs-ref": "dir:.",
        "grafana/overview-dashboard": "https://grafana.acme.example/d/old",
    }
    status = {
        "repository": {"defaultBranch": "trunk"},
        "grafana": {"url": "https://grafana.acme.example/d/portico-1"},
    }
    assert derived_links(notes, REPO, status) == [
        {"type": "docs", "title": "Docs", "url": "https://github.com/acme/checkout/tree/trunk/"},
        {
            "type": "dashboard",
            "title": "Dashboard",
            "url": "https://grafana.acme.example/d/portico-1",
        },
    ]
    only_annotation = derived_links(notes, None, {})
    assert only_annotation == [
        {"type": "dashboard", "title": "Dashboard", "url": "https://grafana.acme.example/d/old"}
    ]
    assert derived_links({}, REPO, {}) is None


def selected(*names: str) -> list[dict[str, str]]:
    return [
        {"type": "dashboard", "title": name, "url": f"https://grafana.acme.example/d/{name}"}
        for name in names
    ]


def test_selected_dashboards_come_after_portico_s_and_once() -> None:
    status = {"grafana": {"url": "https://grafana.acme.example/d/portico-1"}}
    got = derived_links({}, None, status, selected("portico-1", "api", "worker"))
    assert got == [
        {
            "type": "dashboard",
            "title": "Dashboard",
            "url": "https://grafana.acme.example/d/portico-1",
        },
        *selected("api", "worker"),
    ]
    assert derived_links({}, None, {}, selected("api")) == selected("api")
    assert derived_links({}, None, {}, []) is None
    assert derived_links({}, None, {}, None) is None


def test_selected_dashboards_are_bounded_and_checked() -> None:
    many = selected(*(f"d{i:02}" for i in range(MAX_LINKS + 5)))
    got = derived_links({}, None, {}, many)
    assert got == many[:MAX_LINKS]
    # Counted after the one already listed is left out: a status read back (Portico's
    # dashboard first, then the selected ones) gives the same list again, not one fewer.
    status = {"grafana": {"url": many[0]["url"]}}
    once = derived_links({}, None, status, many)
    assert once is not None
    assert len(once) == 1 + MAX_LINKS
    assert derived_links({}, None, status, once) == once
    odd = [
        {"type": "dashboard", "title": "", "url": "https://g.example/d/untitled"},
        {"type": "dashboard", "title": "x", "url": "javascript:alert(1)"},
        {"type": "dashboard", "title": "y", "url": "https://g.example/d/untitled"},
    ]
    assert derived_links({}, None, {}, odd) == [
        {"type": "dashboard", "title": "https://g.example/d/untitled", "url": odd[0]["url"]}
    ]


def component(annotations: dict[str, str], status: dict[str, Any] | None = None) -> EntityView:
    body = {
        "metadata": {"name": "checkout", "namespace": "shop", "annotations": annotations},
        "spec": {"type": "service", "lifecycle": "production", "owner": "group:team"},
        "status": status or {},
    }
    return view_from_body("Component", body)


class Matches:
    def __init__(self, answer: list[dict[str, str]] | None) -> None:
        self.answer = answer
        self.asked: list[EntityView] = []

    def matches(self, view: EntityView) -> list[dict[str, str]] | None:
        self.asked.append(view)
        return self.answer


async def run(step: LinksStep, view: EntityView) -> tuple[list[dict[str, Any]], Any]:
    outcome = await step(StepContext(view, None, OperatorConfig(), "2024-01-01T00:00:00Z"))
    assert outcome is not None
    return outcome.conditions, outcome.fields["links"]


async def test_the_links_step_adds_what_the_search_matched() -> None:
    view = component({"grafana/dashboard-selector": "tags @> 'checkout'"})
    source = Matches(selected("api"))
    assert await run(LinksStep(source), view) == ([], selected("api"))
    assert source.asked == [view]
    assert await run(LinksStep(Matches(None)), view) == ([], None)
    assert await run(LinksStep(), view) == ([], None)  # not wired: as before


async def test_an_invalid_selector_is_reported_and_selects_nothing() -> None:
    view = component({"grafana/dashboard-selector": "tags @> 'checkout' and more"})
    source = Matches(selected("api"))
    conditions, links = await run(LinksStep(source), view)
    assert links is None
    assert source.asked == []
    assert conditions == [
        {
            "type": "LinksResolved",
            "status": "False",
            "reason": "DashboardSelectorInvalid",
            "message": "annotation grafana/dashboard-selector: unexpected 'and'; join conditions "
            "with && or || at character 20; no dashboards are selected",
        }
    ]
    # the rest of the links are unaffected
    noted = component(
        {
            "grafana/dashboard-selector": "(",
            "grafana/overview-dashboard": "https://grafana.acme.example/d/o",
        }
    )
    conditions, links = await run(LinksStep(source), noted)
    assert [c["reason"] for c in conditions] == ["DashboardSelectorInvalid"]
    assert links == [
        {"type": "dashboard", "title": "Dashboard", "url": "https://grafana.acme.example/d/o"}
    ]
