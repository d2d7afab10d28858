"""Tenant isolation, decided: what a namespace may make Portico do, from `tenancy` in
portico-config. Pure: every question is (namespace, its labels, the thing asked, the config)
-> None when allowed, or a Refusal whose message names the field and the policy that said no.

Deny by default: a namespace no rule matches gets `tenancy.default`, which allows reading its
own namespace's workloads and deploying into its own namespace through Portico's own
AppProject, and nothing else (no publishing, no other namespaces, no admin projects, no
GitHub repository read for CI but the ones Portico scaffolded for its Components).
"""

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from portico.domain.workloads import selector_from
from portico.models.config import OperatorConfig
from portico.models.tenancy import SELF, TenantPolicy

MANAGED_PROJECT_PREFIX = "portico-"
POLICY = "portico-config tenancy"

# A GitHub repository name: what GitHub itself accepts, and never `.` or `..`.
REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


@dataclass(frozen=True)
class Refusal:
    """Why Portico will not do something: a condition reason and a message naming the field."""

    reason: str
    message: str


@dataclass(frozen=True)
class Tenant:
    """The policy in force for one namespace, and how to name it in a message."""

    namespace: str
    policy: TenantPolicy
    source: str  # e.g. "portico-config tenancy.rules[1]"

    def expand(self, pattern: str) -> str:
        return pattern.replace(SELF, self.namespace)

    def allows(self, value: str, patterns: Iterable[str], *, fold_case: bool = False) -> bool:
        """Does any glob (with `$self` expanded) match `value`?"""
        for pattern in patterns:
            wanted = self.expand(pattern)
            if fold_case:
                value, wanted = value.lower(), wanted.lower()
            if fnmatch.fnmatchcase(value, wanted):
                return True
        return False


def tenant_for(namespace: str, labels: Mapping[str, str], config: OperatorConfig) -> Tenant:
    """The first rule whose namespaces (names or globs) or selector match; else the default."""
    for i, rule in enumerate(config.tenancy.rules):
        by_name = any(fnmatch.fnmatchcase(namespace, pattern) for pattern in rule.namespaces)
        by_label = rule.namespace_selector is not None and selector_from(
            rule.namespace_selector
        ).matches(labels)
        if by_name or by_label:
            return Tenant(namespace, rule, f"{POLICY}.rules[{i}]")
    return Tenant(
        namespace, config.tenancy.default, f"{POLICY}.default (no rule matches {namespace})"
    )


def _shown(items: Iterable[str]) -> str:
    listed = ", ".join(items)
    return listed or "none"


# --- publishing ---------------------------------------------------------------------------
def github_owner_refusal(tenant: Tenant, owner: str) -> Refusal | None:
    allowed = tenant.policy.publish.github_owners
    if tenant.allows(owner, allowed, fold_case=True):
        return None
    return Refusal(
        "OwnerNotAllowed",
        f"spec.publish.github.owner {owner!r} is not allowed for namespace {tenant.namespace} "
        f"by {tenant.source} (publish.githubOwners: {_shown(allowed)})",
    )


def repo_name_refusal(name: str, where: str) -> Refusal | None:
    if REPO_NAME.match(name) and name not in (".", "..") and not name.endswith(".git"):
        return None
    return Refusal(
        "InvalidRepoName",
        f"{where} renders to {name[:120]!r}, which is not a repository name (letters, digits, "
        "'.', '-', '_'; at most 100; not '.' or '..'; no '.git' suffix)",
    )


def url_problem(url: str, *, allow_file: bool) -> str | None:
    """Why a git URL can never be used, whatever the policy says (None: it is well formed).

    Only https:// and (when the admin allows it) file:// URLs, in their plain form: nothing a
    command line could read as an option, no credentials, no escapes, no `..` segments.
    """
    if url.lstrip().startswith("-"):
        return "starts with '-' (a command line would read it as an option)"
    if url != url.strip() or any(ord(c) < 0x21 or c == "\x7f" for c in url):
        return "contains whitespace or control characters"
    if "%" in url or "\\" in url:
        return "contains '%' or '\\' escapes"
    parts = urlsplit(url)
    if parts.scheme == "file":
        if not allow_file:
            return f"file:// URLs are not allowed ({POLICY}.allowFileUrls is false)"
        if parts.netloc or not parts.path.startswith("/"):
            return "a file:// URL must be file:///absolute/path"
        path = parts.path
    elif parts.scheme == "https":
        if not parts.hostname or "@" in parts.netloc or parts.hostname.startswith("-"):
            return "an https:// URL needs a host and no credentials"
        path = parts.path
    else:
        allowed = "https://" + (" or file://" if allow_file else "")
        return f"only {allowed} git URLs are allowed, not {parts.scheme or 'this form'}"
    if parts.query or parts.fragment:
        return "has a query or fragment"
    segments = path.split("/")[1:]
    if any(s in ("", ".", "..") for s in segments) or posixpath.normpath(path) != path:
        return "has empty, '.' or '..' path segments"
    return None


def git_url_refusal(tenant: Tenant, url: str, config: OperatorConfig) -> Refusal | None:
    """spec.publish.git.url, rendered: well formed, and matching publish.gitUrls."""
    problem = url_problem(url, allow_file=config.tenancy.allow_file_urls)
    if problem is not None:
        return Refusal(
            "URLNotAllowed",
            f"spec.publish.git.url renders to {url[:200]!r}, which {problem}; {POLICY} "
            "refuses such URLs for every namespace",
        )
    allowed = tenant.policy.publish.git_urls
    if tenant.allows(url, allowed):
        return None
    return Refusal(
        "URLNotAllowed",
        f"spec.publish.git.url {url[:200]!r} is not allowed for namespace {tenant.namespace} "
        f"by {tenant.source} (publish.gitUrls: {_shown(allowed)})",
    )


# --- observing ----------------------------------------------------------------------------
def observe_refusal(tenant: Tenant, target: str) -> Refusal | None:
    allowed = tenant.policy.observe.namespaces
    if tenant.allows(target, allowed):
        return None
    return Refusal(
        "NamespaceNotAllowed",
        f"workloads in namespace {target} may not be observed from namespace "
        f"{tenant.namespace} by {tenant.source} (observe.namespaces: {_shown(allowed)})",
    )


# --- reading GitHub (CI runs, repository state) -------------------------------------------
def observed_github_owners(policy: TenantPolicy) -> tuple[str, ...]:
    """observe.githubOwners, or publish.githubOwners where it is unset: a team may read the
    CI of the repositories it may publish to, as before the setting existed."""
    observe = policy.observe.github_owners
    return observe if observe is not None else policy.publish.github_owners


def github_read_refusal(tenant: Tenant, owner: str, repository: str, where: str) -> Refusal | None:
    """May a Component of this namespace have Portico read `repository` (its CI runs, and
    whether it exists or is archived) with Portico's token? Only when observe.githubOwners
    allows its owner: the answers land in the namespace's own status, and the requests
    spend the whole catalog's budget."""
    allowed = observed_github_owners(tenant.policy)
    if tenant.allows(owner, allowed, fold_case=True):
        return None
    setting, keep = "observe.githubOwners", ""
    if tenant.policy.observe.github_owners is None:
        setting = "observe.githubOwners unset, so publish.githubOwners"
        keep = f" (with {_shown(allowed)}, read now)" if allowed else ""
    return Refusal(
        "RepositoryNotAllowed",
        f"{where} names GitHub repository {repository}, whose owner {owner!r} is not allowed "
        f"for namespace {tenant.namespace} by {tenant.source} ({setting}: {_shown(allowed)}): "
        "Portico reads neither its CI runs nor its state. To allow it, an admin adds "
        f"{owner!r} to observe.githubOwners{keep} of the {POLICY} rule for namespace "
        f"{tenant.namespace}",
    )


# --- Argo CD ------------------------------------------------------------------------------
def managed_project_name(namespace: str) -> str:
    """Portico's own AppProject for a namespace: injective, since namespaces are unique."""
    return f"{MANAGED_PROJECT_PREFIX}{namespace}"


def project_for(tenant: Tenant, requested: str | None) -> str | Refusal:
    """The AppProject a Component's Application goes into.

    With projects named by the admin, the Component picks one of them (the first by default).
    With none, the only project is Portico's own for the namespace. `default`, or any project
    the admin did not name for this namespace, is refused.
    """
    allowed = tenant.policy.argocd.projects or (managed_project_name(tenant.namespace),)
    if requested is None:
        return allowed[0]
    if requested in allowed:
        return requested
    return Refusal(
        "ProjectNotAllowed",
        f"spec.deploy.argocd.project {requested!r} is not allowed for namespace "
        f"{tenant.namespace} by {tenant.source} (allowed: {', '.join(allowed)})",
    )


def allowed_sources(tenant: Tenant) -> tuple[str, ...]:
    """Repository globs Argo CD may deploy from: sourceRepos, plus where it may publish."""
    policy = tenant.policy
    owners = tuple(f"https://github.com/{owner}/*" for owner in policy.publish.github_owners)
    return tuple(
        tenant.expand(p) for p in (*policy.argocd.source_repos, *policy.publish.git_urls, *owners)
    )


def source_refusal(
    tenant: Tenant, url: str, scaffolded: str | None, *, allow_file: bool
) -> Refusal | None:
    """The repository an Application deploys: the one Portico scaffolded for this Component
    (published under this policy), or one that matches the namespace's allowed sources."""
    if scaffolded is not None and url == scaffolded:
        return None
    problem = url_problem(url, allow_file=allow_file)
    if problem is not None:
        return Refusal(
            "SourceNotAllowed",
            f"repository {url[:200]!r} {problem}; {POLICY} refuses such URLs for every namespace",
        )
    allowed = allowed_sources(tenant)
    if tenant.allows(url, allowed, fold_case=True):
        return None
    return Refusal(
        "SourceNotAllowed",
        f"repository {url[:200]!r} may not be deployed from namespace {tenant.namespace} by "
        f"{tenant.source} (argocd.sourceRepos, publish.gitUrls, publish.githubOwners: "
        f"{_shown(allowed)})",
    )
