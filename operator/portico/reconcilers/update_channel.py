"""Where a scaffolded repository's updates go: GitHub's API (a branch and a pull request) or
git (a branch only), and whether the tenancy policy still allows it.

The repository is the one status.repository names; the Template's namespace's rule is
checked again before anything is written, so neither a changed rule nor a status someone
else wrote can point an update at a repository the Template may not publish to.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from portico.clients import git_update
from portico.clients.publishing import Proposal, UpdateRequest
from portico.domain.refs import EntityKey
from portico.domain.tenancy import Tenant, git_url_refusal, github_owner_refusal
from portico.models.config import OperatorConfig
from portico.models.template import TemplateSpec
from portico.reconcilers.github_access import GitHubAccess

Propose = Callable[[UpdateRequest, dict[str, str]], Awaitable[Proposal]]
ReadPull = Callable[[int], Awaitable[Proposal]]
FALLBACK = "github.fallbackGitUrl"


@dataclass(frozen=True)
class Channel:
    owner: str
    name: str
    propose: Propose
    read_pull: ReadPull | None = None  # None: git, no pull requests (a branch to merge)


@dataclass(frozen=True)
class Refused:
    reason: str
    message: str


def owner_and_name(url: str) -> tuple[str, str]:
    parts = url.rstrip("/").removesuffix(".git").split("/")
    return (parts[-2], parts[-1]) if len(parts) >= 2 else ("", parts[-1])


async def channel_for(
    url: str,
    template: TemplateSpec,
    strings: Mapping[str, str],
    tenant: Tenant,
    tkey: EntityKey,
    config: OperatorConfig,
    github: GitHubAccess,
) -> Channel | Refused:
    publish = template.publish
    owner, name = owner_and_name(url)
    where = f"template {tkey.namespace}/{tkey.name}"
    if publish is not None and publish.git is not None:
        refusal = git_url_refusal(tenant, url, config)
        if refusal is not None:
            return Refused(refusal.reason, f"{where}: {refusal.message}")
        return _git(url, owner, name, allow_file=config.tenancy.allow_file_urls)
    if publish is None or publish.github is None:
        return Refused("NoPublisher", "the Template's spec.publish sets neither github nor git")
    refusal = github_owner_refusal(tenant, owner)
    if refusal is not None:
        return Refused(refusal.reason, f"{where}: {refusal.message}")
    if url.startswith("https://"):
        token = await github.token(config)
        if token is None:
            return Refused("NoGitHubToken", github.missing_token(config))
        client = github.client(token, config)

        async def read_pull(number: int) -> Proposal:
            return await client.read_pull(owner, name, number)

        return Channel(owner, name, client.propose_update, read_pull)
    # Scaffolded without a token, to the admin's fallback URL: only that URL is pushed to.
    if strings.get(FALLBACK, "").strip() != url:
        return Refused(
            "URLNotAllowed",
            f"{url} is not this repository's {FALLBACK} any more; nothing is pushed there",
        )
    return _git(url, owner, name, allow_file=url.startswith("file:"))


def _git(url: str, owner: str, name: str, *, allow_file: bool) -> Channel:
    async def propose(req: UpdateRequest, files: dict[str, str]) -> Proposal:
        return await git_update.propose(url, req, files, allow_file=allow_file)

    return Channel(owner, name, propose)
