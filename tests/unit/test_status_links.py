"""status.links: docs from backstage.io/techdocs-ref resolved against the repository, and the
dashboard (Portico's own, else grafana/overview-dashboard)."""

import pytest

from portico.domain.links import derived_links, docs_url

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
