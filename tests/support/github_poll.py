"""The GitHub poller's test bench (reconcilers/github_poll.py): a virtual clock, a token
source, the Components it sees, the fake's repositories, and the requests it made. Shared by
tests/unit/test_github_poller.py and test_ci_tenancy.py."""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from fakes.github import FakeGitHub
from portico.domain.entity import EntityView, view_from_body
from portico.domain.refs import EntityKey
from portico.models.config import CIConfig, GithubConfig, GithubPollConfig, OperatorConfig
from portico.models.tenancy import TenancyConfig
from portico.reconcilers.github_poll import ClientFactory, GitHubPoller, NamespaceLabels

CI = ".github/workflows/ci.yml"


class Clock:
    """Virtual time: `sleep` moves it on at once."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


class Access:
    def __init__(self, token: str | None) -> None:
        self.value: str | None = token
        self.error: Exception | None = None

    async def token(self, config: OperatorConfig) -> str | None:
        if self.error is not None:
            raise self.error
        return self.value


class Catalog:
    """The Components the poller sees, and what it re-queued."""

    def __init__(self) -> None:
        self.views: dict[EntityKey, EntityView] = {}
        self.requeued: list[EntityKey] = []

    def add(self, name: str, slug: str, namespace: str = "shop", **status: Any) -> EntityView:
        annotations = {"github.com/project-slug": slug} if slug else {}
        view = view_from_body(
            "Component",
            {
                "kind": "Component",
                "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
                "spec": {"type": "service", "lifecycle": "production", "owner": "group:t"},
                "status": status,
            },
        )
        self.views[view.key] = view
        return view

    def requeue(self, key: EntityKey) -> None:
        self.requeued.append(key)

    def take(self) -> set[str]:
        taken, self.requeued = {k.name for k in self.requeued}, []
        return taken


async def repository(
    fake: FakeGitHub, http: httpx.AsyncClient, name: str, *, run: str | None = None
) -> None:
    created = await http.post("/orgs/acme/repos", json={"name": name, "auto_init": True})
    created.raise_for_status()
    fake.add_workflow("acme", name, CI, "CI")
    if run is not None:
        fake.add_run("acme", name, CI, branch="main", status="completed", conclusion=run)


# The Catalog's namespace may name the fake's org: its Templates publish there, and
# observe.githubOwners defaults to publish.githubOwners (test_ci_tenancy.py has the rest).
SHOP = TenancyConfig.model_validate(
    {"rules": [{"namespaces": ["shop"], "publish": {"githubOwners": ["acme"]}}]}
)


def no_labels(namespace: str) -> dict[str, str]:
    return {}


def settings(fake: FakeGitHub | str, *, ci: CIConfig | None = None, **poll: Any) -> OperatorConfig:
    api_url = fake if isinstance(fake, str) else fake.base_url
    github = GithubConfig(api_url=api_url, poll=GithubPollConfig(**poll), ci=ci or CIConfig())
    return OperatorConfig(github=github, tenancy=SHOP)


def poller_for(
    fake: FakeGitHub | str,
    catalog: Catalog,
    clock: Clock | None = None,
    access: Access | None = None,
    *,
    config: Callable[[], OperatorConfig] | None = None,
    labels: NamespaceLabels | None = no_labels,
    client: ClientFactory | None = None,
    **poll: Any,
) -> GitHubPoller:
    """A poller for `catalog` against the fake (or a base URL), with `settings(fake, **poll)`
    unless `config` gives the configuration in force (read on every call, as the engine's)."""
    fixed = settings(fake, **poll)
    kwargs: dict[str, Any] = {}
    if clock is not None:
        kwargs = {"clock": clock, "sleep": clock.sleep}
    if client is not None:
        kwargs["client"] = client
    if access is None:
        assert isinstance(fake, FakeGitHub), "a base URL needs its own Access"
        access = Access(fake.token)
    return GitHubPoller(
        config or (lambda: fixed),
        access,
        lambda: list(catalog.views.values()),
        catalog.requeue,
        namespace_labels=labels,
        **kwargs,
    )


def calls(fake: FakeGitHub, since: int = 0) -> list[tuple[str, int]]:
    """(path, status) of the GETs since the `since`th call: the poller's (the test only
    writes)."""
    return [(c.path, c.status) for c in fake.calls[since:] if c.method == "GET"]


def runs(fake: FakeGitHub, since: int = 0) -> list[tuple[str, int]]:
    """The runs requests among `calls`, sorted; the repository reads between them (every
    Nth round, staggered) must be 304s."""
    got = calls(fake, since)
    assert all(status == 304 for path, status in got if "/actions/" not in path), got
    return sorted((path, status) for path, status in got if "/actions/" in path)
