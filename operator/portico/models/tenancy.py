"""What each tenant namespace may make Portico do: `tenancy` in portico-config.

Namespaces are tenants. Whoever may edit catalog entities in a namespace may make Portico
act only within what the cluster admin grants that namespace here; with no matching rule a
namespace gets `tenancy.default`, which allows its own namespace and nothing else.

```yaml
tenancy:
  allowFileUrls: false              # file:// git URLs at all (the demo and tests only)
  rules:                            # the first rule that matches a namespace wins
    - namespaces: [payments, "payments-*"]         # names or globs, and/or
      namespaceSelector: {matchLabels: {team: payments}}
      publish:
        githubOwners: [acme-payments]              # organizations/users Templates publish to
        gitUrls: ["https://git.example.com/payments/*"]  # globs over the whole git URL
      observe:
        namespaces: [$self, "payments-*"]          # where its Components read workloads
        githubOwners: [acme-payments, acme-shared] # whose repositories' CI they may show
      argocd:
        projects: [payments]        # admin-made AppProjects; empty: Portico's own per-namespace one
        destinations: [{namespace: $self}, {namespace: "payments-*"}]
        sourceRepos: ["https://github.com/acme-payments/*"]
```
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

IN_CLUSTER = "https://kubernetes.default.svc"
SELF = "$self"


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class AllowedDestination(_Policy):
    namespace: str = Field(description="Namespace glob; `$self` is the Component's namespace.")
    server: str | None = Field(default=None, description="Cluster URL; none: in-cluster.")
    name: str | None = Field(default=None, description="Argo CD cluster name, instead of server.")


class PublishPolicy(_Policy):
    github_owners: tuple[str, ...] = Field(
        default=(),
        alias="githubOwners",
        description="GitHub organizations or users (globs, case-insensitive) Templates in the "
        "namespace may publish to. Empty: none.",
    )
    git_urls: tuple[str, ...] = Field(
        default=(),
        alias="gitUrls",
        description="Globs over the whole git URL (https://, or file:// with allowFileUrls) "
        "that spec.publish.git.url may render to. Empty: none.",
    )


class ObservePolicy(_Policy):
    namespaces: tuple[str, ...] = Field(
        default=(SELF,),
        description="Namespaces (globs; `$self` is the Component's own) whose workloads its "
        "Components may read.",
    )
    github_owners: tuple[str, ...] | None = Field(
        default=None,
        alias="githubOwners",
        description="GitHub organizations or users (globs, case-insensitive) whose "
        "repositories its Components may name (spec.source.github, spec.source.git, the "
        "github.com/project-slug annotation) for Portico to read, with its own token, their "
        "CI runs and whether they are archived or deleted. Unset: publish.githubOwners. "
        "Empty: none. A repository Portico scaffolded for the Component is read either way.",
    )


class ArgoCDPolicy(_Policy):
    projects: tuple[str, ...] = Field(
        default=(),
        description="Admin-made AppProjects the namespace may use. Empty: Portico's own "
        "AppProject for the namespace (portico-<namespace>), which Argo CD confines to the "
        "destinations below, with no cluster-scoped resources.",
    )
    destinations: tuple[AllowedDestination, ...] = Field(
        default=(AllowedDestination(namespace=SELF),),
        description="Where its Applications may deploy.",
    )
    source_repos: tuple[str, ...] = Field(
        default=(),
        alias="sourceRepos",
        description="Repository URL globs Argo CD may deploy from, besides the ones the "
        "namespace may publish to and the repositories Portico scaffolded for it.",
    )


class TenantPolicy(_Policy):
    publish: PublishPolicy = Field(default_factory=PublishPolicy)
    observe: ObservePolicy = Field(default_factory=ObservePolicy)
    argocd: ArgoCDPolicy = Field(default_factory=ArgoCDPolicy)


class TenantRule(TenantPolicy):
    namespaces: tuple[str, ...] = Field(default=(), description="Namespace names or globs.")
    namespace_selector: dict[str, Any] | None = Field(default=None, alias="namespaceSelector")


class TenancyConfig(_Policy):
    allow_file_urls: bool = Field(
        default=False,
        alias="allowFileUrls",
        description="Allow file:// git URLs at all (only the demo and tests need them).",
    )
    rules: tuple[TenantRule, ...] = ()
    default: TenantPolicy = Field(
        default_factory=TenantPolicy,
        description="What a namespace no rule matches gets: its own namespace, nothing else.",
    )
