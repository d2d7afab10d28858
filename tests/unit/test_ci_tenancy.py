"""Which GitHub repositories Portico reads for a Component's CI (domain/ci.py
readable_repository, domain/tenancy.py github_read_refusal), and that the ci step and the
poller keep to it. Portico reads with the platform's token and writes what it read (workflow
names, commits, run URLs, whether the repository exists or is archived) into the
Component's status, in the tenant's own namespace: a namespace editor must not be able to
point it at another team's repository.

The matrix: a repository Portico scaffolded for the Component (read whatever the policy
says); one named by the github.com/project-slug annotation, spec.source.github or
spec.source.git, with no rule (refused), a rule that publishes to its owner (read: the
default of observe.githubOwners), an explicit observe.githubOwners (it replaces the
default; empty: none), globs and case, a rule that selects the namespace by its labels; the
step's CIRead=False (RepositoryNotAllowed) naming the namespace and the setting, with
nothing about the repository, and not gating Ready; the poller never asking GitHub about a
refused repository (not even one an allowed Component shares), reading a scaffolded one,
dropping a repository the policy stops allowing, and reading only scaffolded repositories
when it cannot ask the policy (no namespace labels given).
"""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from test_ci_signal import RED, Answers, raw, runs
from test_status import COMP, FakeGraph, body

from fakes.github import FakeGitHub
from portico.domain.ci import RepoAnswer, readable_repository
from portico.domain.conditions import summary_ready
from portico.domain.entity import EntityView, view_from_body
from portico.domain.status import desired_status
from portico.domain.tenancy import Refusal
from portico.models.config import OperatorConfig
from portico.models.tenancy import TenancyConfig
from portico.reconcilers.ci_step import CIStep
from portico.reconcilers.github_poll import GitHubPoller
from portico.reconcilers.steps import StepContext
from support.github_poll import Catalog, Clock, calls, poller_for, repository, settings

NOW = "2025-01-01T00:00:00Z"
SCAFFOLDED = {"url": "https://github.com/platform/checkout", "commit": "0" * 40}


def policy(*rules: dict[str, Any]) -> OperatorConfig:
    return OperatorConfig(tenancy=TenancyConfig.model_validate({"rules": list(rules)}))


PUBLISHES_TO_ACME = policy({"namespaces": ["shop"], "publish": {"githubOwners": ["acme"]}})


def component(
    namespace: str = "shop",
    slug: str | None = "acme/svc",
    spec: dict[str, Any] | None = None,
    **status: Any,
) -> EntityView:
    raw_body = body("Component", "svc", {**COMP, **(spec or {})}, ns=namespace, **status)
    raw_body["metadata"]["annotations"] = {"github.com/project-slug": slug} if slug else {}
    return view_from_body("Component", raw_body)


def read(view: EntityView, config: OperatorConfig, **labels: str) -> Any:
    return readable_repository(view, labels, config)


# -- the decision ------------------------------------------------------------------------


def test_without_a_rule_no_named_repository_is_read() -> None:
    refusal = read(component("evil", "platform/secret-infra"), OperatorConfig())
    assert isinstance(refusal, Refusal)
    assert refusal.reason == "RepositoryNotAllowed"
    assert refusal.message == (
        "the github.com/project-slug annotation names GitHub repository "
        "platform/secret-infra, whose owner 'platform' is not allowed for namespace evil by "
        "portico-config tenancy.default (no rule matches evil) (observe.githubOwners unset, so "
        "publish.githubOwners: none): Portico reads neither its CI runs nor its state. To "
        "allow it, an admin adds 'platform' to observe.githubOwners of the portico-config "
        "tenancy rule for namespace evil"
    )


def test_a_namespace_reads_the_owners_it_publishes_to_by_default() -> None:
    assert read(component("shop", "acme/svc"), PUBLISHES_TO_ACME) == ("acme", "svc")
    assert read(component("shop", "ACME/Svc"), PUBLISHES_TO_ACME) == ("ACME", "Svc")
    refusal = read(component("shop", "platform/secret-infra"), PUBLISHES_TO_ACME)
    assert isinstance(refusal, Refusal)
    assert "by portico-config tenancy.rules[0]" in refusal.message
    assert "(observe.githubOwners unset, so publish.githubOwners: acme)" in refusal.message
    # An explicit list replaces the default: the message says to keep what is read now.
    assert "adds 'platform' to observe.githubOwners (with acme, read now)" in refusal.message
    assert read(component("elsewhere", "acme/svc"), PUBLISHES_TO_ACME).reason == (
        "RepositoryNotAllowed"
    )


def test_observe_github_owners_replaces_the_default() -> None:
    config = policy(
        {
            "namespaces": ["shop"],
            "publish": {"githubOwners": ["acme"]},
            "observe": {"githubOwners": ["platform", "oss-*"]},
        }
    )
    assert read(component("shop", "platform/secret-infra"), config) == ("platform", "secret-infra")
    assert read(component("shop", "OSS-tools/lint"), config) == ("OSS-tools", "lint")
    refusal = read(component("shop", "acme/svc"), config)
    assert isinstance(refusal, Refusal)
    assert "(observe.githubOwners: platform, oss-*)" in refusal.message
    none = policy(
        {
            "namespaces": ["shop"],
            "publish": {"githubOwners": ["acme"]},
            "observe": {"githubOwners": []},
        }
    )
    assert isinstance(read(component("shop", "acme/svc"), none), Refusal)


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        (
            {"source": {"github": {"owner": "platform", "repo": "secret-infra"}}},
            "spec.source.github",
        ),
        ({"source": {"git": "https://github.com/platform/secret-infra.git"}}, "spec.source.git"),
    ],
)
def test_every_way_of_naming_a_repository_is_checked(spec: dict[str, Any], named: str) -> None:
    refusal = read(component("shop", None, spec), PUBLISHES_TO_ACME)
    assert isinstance(refusal, Refusal)
    assert refusal.message.startswith(f"{named} names GitHub repository platform/secret-infra")


def test_a_rule_may_select_the_namespace_by_its_labels() -> None:
    config = policy(
        {
            "namespaceSelector": {"matchLabels": {"team": "platform"}},
            "observe": {"githubOwners": ["platform"]},
        }
    )
    view = component("infra", "platform/secret-infra")
    assert read(view, config, team="platform") == ("platform", "secret-infra")
    assert isinstance(read(view, config, team="payments"), Refusal)


def test_a_repository_portico_scaffolded_for_the_component_is_read_whatever_the_policy() -> None:
    """status.repository.url is written by the scaffold step only (a namespace editor cannot
    write status), for a repository published under the Template's namespace's rule."""
    view = component("evil", None, repository=SCAFFOLDED)
    assert read(view, OperatorConfig()) == ("platform", "checkout")
    # The scaffolded repository is the Component's repository: a slug does not replace it.
    both = component("evil", "platform/secret-infra", repository=SCAFFOLDED)
    assert read(both, OperatorConfig()) == ("platform", "checkout")
    assert read(component("evil", None), OperatorConfig()) is None  # no repository at all


# -- the step ----------------------------------------------------------------------------


class Graph(FakeGraph):
    def __init__(self, labels: dict[str, str]) -> None:
        super().__init__()
        self.labels = labels

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        return dict(self.labels)


async def outcome(view: EntityView, config: OperatorConfig, graph: Any = None) -> Any:
    done = await CIStep(Answers(RED))(StepContext(view, graph, config, NOW))
    assert done is not None
    return done


async def test_the_step_says_ci_read_false_and_nothing_about_a_refused_repository() -> None:
    ci_before = {"repository": "platform/secret-infra", "runId": 3, "status": "completed"}
    view = component("evil", "platform/secret-infra", ci=ci_before)
    done = await outcome(view, OperatorConfig())
    (refused,) = done.conditions
    assert (refused["type"], refused["status"], refused["reason"]) == (
        "CIRead",
        "False",
        "RepositoryNotAllowed",
    )
    assert "namespace evil" in refused["message"]
    assert "observe.githubOwners" in refused["message"]
    assert done.fields == {"ci": None}  # what it said before is cleared
    assert done.signals == ()
    # CIRead does not gate Ready: CI is an add-on, what runs keeps running.
    assert summary_ready(done.conditions)["status"] == "True"
    status = desired_status(view, FakeGraph(view), now=NOW, conditions=done.conditions)
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"


async def test_the_step_asks_the_policy_with_the_namespace_labels() -> None:
    config = policy(
        {
            "namespaceSelector": {"matchLabels": {"team": "acme"}},
            "observe": {"githubOwners": ["acme"]},
        }
    )
    allowed = await outcome(component("shop"), config, Graph({"team": "acme"}))
    assert allowed.fields["ci"]["conclusion"] == "failure"
    refused = await outcome(component("shop"), config, Graph({"team": "other"}))
    assert [c["reason"] for c in refused.conditions] == ["RepositoryNotAllowed"]


async def test_the_step_reads_a_scaffolded_repository_in_a_namespace_without_a_rule() -> None:
    answer = RepoAnswer(
        found=True, archived=False, branch="main", runs=runs(raw(1, conclusion="success"))
    )
    view = component("evil", None, repository=SCAFFOLDED)
    done = await CIStep(Answers(answer))(StepContext(view, None, OperatorConfig(), NOW))
    assert done is not None
    assert [c["type"] for c in done.conditions] == ["RepositoryMissing", "RepositoryArchived"]
    assert done.fields["ci"]["repository"] == "platform/checkout"


# -- the poller --------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(orgs=["acme", "platform"], user="portico-bot") as server:
        yield server
    server.assert_no_internal_errors()


@pytest.fixture
async def http(fake: FakeGitHub) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {fake.token}"}
    async with httpx.AsyncClient(base_url=fake.base_url, headers=headers, timeout=10) as client:
        yield client


def poller(
    fake: FakeGitHub, catalog: Catalog, config: OperatorConfig, *, labels: bool = True
) -> GitHubPoller:
    return poller_for(
        fake, catalog, Clock(), config=lambda: config, labels=(lambda ns: {}) if labels else None
    )


async def secret(fake: FakeGitHub, http: httpx.AsyncClient) -> None:
    """platform/secret-infra: another team's repository, red CI."""
    created = await http.post(
        "/orgs/platform/repos", json={"name": "secret-infra", "auto_init": True}
    )
    created.raise_for_status()
    fake.add_workflow("platform", "secret-infra", ".github/workflows/ci.yml", "CI")
    fake.add_run(
        "platform",
        "secret-infra",
        ".github/workflows/ci.yml",
        branch="main",
        status="completed",
        conclusion="failure",
    )


async def test_a_refused_repository_is_never_asked_about(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    await repository(fake, http, "svc", run="success")
    await secret(fake, http)
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    spy = catalog.add("spy", "platform/secret-infra", namespace="evil")
    nosy = catalog.add("nosy", "platform/secret-infra")  # shop may not read platform either
    shared = catalog.add("shared", "acme/svc", namespace="evil")  # nor acme from evil
    polls = poller(fake, catalog, settings(fake))
    try:
        for _ in range(3):
            await polls.poll_once()
        assert {path for path, _ in calls(fake)} == {
            "/repos/acme/svc",
            "/repos/acme/svc/actions/runs",
        }
        assert polls.answer(svc) is not None
        assert (polls.answer(spy), polls.answer(nosy), polls.answer(shared)) == (None, None, None)
        assert catalog.take() == {"svc"}  # only the allowed Component is re-queued
        assert not polls._unseen.is_set()  # asking for a refused one starts no read either
    finally:
        await polls.stop()


async def test_a_repository_portico_scaffolded_is_read_in_any_namespace(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    await secret(fake, http)
    catalog = Catalog()
    url = {"url": "https://github.com/platform/secret-infra", "commit": "0" * 40}
    view = catalog.add("infra", "", namespace="evil", repository=url)
    polls = poller(fake, catalog, settings(fake))
    try:
        await polls.poll_once()
        answer = polls.answer(view)
        assert answer is not None
        assert answer.runs is not None
        assert answer.runs[0].conclusion == "failure"
    finally:
        await polls.stop()


async def test_a_repository_the_policy_stops_allowing_is_not_read_again(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    await repository(fake, http, "svc", run="success")
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    config = settings(fake)
    polls = poller_for(fake, catalog, Clock(), config=lambda: config)
    try:
        await polls.poll_once()
        assert polls.answer(svc) is not None
        config = config.model_copy(update={"tenancy": TenancyConfig()})
        seen = len(fake.calls)
        await polls.poll_once()
        assert calls(fake, seen) == []
        assert polls.answer(svc) is None
    finally:
        await polls.stop()


async def test_without_namespace_labels_only_scaffolded_repositories_are_read(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    """A poller that cannot ask the policy denies: it reads what Portico scaffolded only."""
    await repository(fake, http, "svc", run="success")
    await secret(fake, http)
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    url = {"url": "https://github.com/platform/secret-infra", "commit": "0" * 40}
    infra = catalog.add("infra", "", repository=url)
    polls = poller(fake, catalog, settings(fake), labels=False)
    try:
        await polls.poll_once()
        assert {path for path, _ in calls(fake)} == {
            "/repos/platform/secret-infra",
            "/repos/platform/secret-infra/actions/runs",
        }
        assert polls.answer(svc) is None
        assert polls.answer(infra) is not None
    finally:
        await polls.stop()
