"""The template-update step's decisions that need no GitHub: nothing is rendered or sent while
the Template's check is due, for a policy of None, for a Template whose tests fail, or for a
repository already at the version; a repository the tenancy rule no longer allows gets
nothing either, whatever its status says."""

from typing import Any

import pytest

from portico.domain.entity import EntityView, view_from_body
from portico.domain.refs import EntityKey
from portico.models.config import OperatorConfig
from portico.reconcilers.github_access import GitHubAccess
from portico.reconcilers.steps import StepContext
from portico.reconcilers.upgrade import UpgradeStep
from support.engine import make_body

REPO = {
    "url": "https://github.com/acme/web",
    "defaultBranch": "main",
    "commit": "a" * 40,
    "templateVersion": "v1",
    "values": {"name": "web"},
}
TEMPLATE_SPEC = {
    "owner": "group:platform",
    "skeleton": {"files": [{"path": "README.md", "content": "# {{ values.name }}"}]},
    "publish": {"github": {"owner": "acme"}},
}


def checked(version: str, tests: str = "True", generation: int = 1) -> dict[str, Any]:
    return {
        "observedGeneration": generation,
        "version": version,
        "conditions": [
            {"type": "Valid", "status": "True"},
            {"type": "TestsPassed", "status": tests},
        ],
    }


class Graph:
    def __init__(self, *views: EntityView) -> None:
        self.views = {v.key: v for v in views}

    def get(self, key: EntityKey) -> EntityView | None:
        return self.views.get(key)

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        return {}


class Renders:
    """Records renders; answers with one file and no strings."""

    def __init__(self) -> None:
        self.jobs: list[str] = []

    def for_config(self, _: Any) -> "Renders":
        return self

    async def run(self, job: str, args: dict[str, Any]) -> dict[str, Any]:
        self.jobs.append(job)
        return {"files": {"README.md": "# web"}, "strings": {}, "values": args["values"]}


class NoConfigMaps:
    async def config_maps(self, *_: Any) -> dict[str, dict[str, str]]:
        return {}


class NoGitHub(GitHubAccess):
    def __init__(self) -> None:
        super().__init__(None, "portico-system")  # type: ignore[arg-type]

    async def token(self, config: OperatorConfig) -> str | None:
        raise AssertionError("GitHub was asked")


def component(values: dict[str, Any], status: dict[str, Any], **scaffold: Any) -> EntityView:
    spec = {
        "type": "service",
        "lifecycle": "production",
        "owner": "group:team",
        "scaffold": {"templateRef": {"name": "py"}, "values": values, **scaffold},
    }
    return view_from_body("component", make_body("Component", "web", spec, status=status))


def template(status: dict[str, Any], **spec: Any) -> EntityView:
    return view_from_body(
        "template", make_body("Template", "py", {**TEMPLATE_SPEC, **spec}, status=status)
    )


async def run(
    comp: EntityView, tmpl: EntityView, config: OperatorConfig | None = None
) -> tuple[dict[str, Any], float | None, Renders]:
    renders = Renders()
    step = UpgradeStep(NoGitHub(), NoConfigMaps(), renders)  # type: ignore[arg-type]
    ctx = StepContext(comp, Graph(comp, tmpl), config or OperatorConfig(), "2026-11-24T00:00:00Z")
    outcome = await step(ctx)
    assert outcome is not None
    [condition] = outcome.conditions
    return condition, outcome.retry_after, renders


async def test_at_the_version_it_is_up_to_date_with_no_render() -> None:
    c, retry, renders = await run(
        component({"name": "web"}, {"repository": REPO}), template(checked("v1"))
    )
    assert (c["status"], c["reason"]) == ("True", "UpToDate")
    assert retry is None
    assert renders.jobs == []


async def test_while_the_template_check_is_due_the_last_word_is_kept() -> None:
    said = {"type": "UpToDate", "status": "True", "reason": "UpToDate", "message": "on v1"}
    comp = component({"name": "web"}, {"repository": REPO, "conditions": [said]})
    stale = template(checked("v1", generation=0))  # status of an older generation
    c, retry, renders = await run(comp, stale)
    assert c == said
    assert retry == 15.0
    assert renders.jobs == []


@pytest.mark.parametrize(
    ("policy", "tests", "reason", "status"),
    [
        ({"updatePolicy": "None"}, "True", "UpdatesDisabled", "False"),
        ({}, "False", "TemplateNotReady", "False"),
    ],
)
async def test_nothing_is_rendered_when_nothing_may_be_proposed(
    policy: dict[str, str], tests: str, reason: str, status: str
) -> None:
    comp = component({"name": "web"}, {"repository": REPO}, **policy)
    c, _, renders = await run(comp, template(checked("v2", tests=tests)))
    assert (c["status"], c["reason"]) == (status, reason)
    assert renders.jobs == []


async def test_a_repository_the_rule_no_longer_allows_gets_nothing() -> None:
    # No tenancy rule matches namespace "shop": it may publish nowhere, so the recorded
    # GitHub owner is refused before any token is read.
    c, retry, renders = await run(
        component({"name": "web"}, {"repository": REPO}), template(checked("v2"))
    )
    assert (c["status"], c["reason"]) == ("False", "OwnerNotAllowed")
    assert "acme" in c["message"]
    assert renders.jobs == ["scaffold_render"]
    assert retry == 300.0
