"""The operator's cluster-admin configuration: `config.yaml` in the portico-config ConfigMap.

```yaml
argocd:
  namespace: argocd                 # where Applications are created
  rules:                            # first matching rule wins; none: the default below
    - namespaces: [payments]        # Component namespaces this rule is for, and/or
      namespaceSelector: {matchLabels: {team: payments}}
      projects: [payments]          # Argo CD projects they may use
      destinations:                 # where they may deploy (namespace globs, clusters)
        - {namespace: "payments-*", server: "https://kubernetes.default.svc"}
```
Without a matching rule a Component may use project `default` and deploy only to its own
namespace in the cluster Portico runs in.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

IN_CLUSTER = "https://kubernetes.default.svc"


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class AllowedDestination(_Config):
    namespace: str = Field(description="Namespace glob; `$self` is the Component's namespace.")
    server: str | None = Field(default=None, description="Cluster URL; none: in-cluster.")
    name: str | None = Field(default=None, description="Argo CD cluster name, instead of server.")


class GuardrailRule(_Config):
    namespaces: list[str] = Field(default_factory=list)
    namespace_selector: dict[str, Any] | None = Field(default=None, alias="namespaceSelector")
    projects: list[str] = Field(default_factory=lambda: ["default"])
    destinations: list[AllowedDestination] = Field(
        default_factory=lambda: [AllowedDestination(namespace="$self")]
    )


class ArgoCDConfig(_Config):
    namespace: str = "argocd"
    rules: list[GuardrailRule] = Field(default_factory=list)


class GithubConfig(_Config):
    api_url: str = Field(default="https://api.github.com", alias="apiUrl")
    token_secret: str = Field(
        default="portico-github-token",
        alias="tokenSecret",
        description="Secret (key `token`) in Portico's namespace.",
    )
    throttle: bool = Field(
        default=True, description="Pause between writes as GitHub asks (secondary rate limits)."
    )
    fallback_git_url: str | None = Field(
        default=None,
        alias="fallbackGitUrl",
        description="Without a token, publish GitHub Templates with git to this URL template "
        "(e.g. file:///srv/git/{{ owner }}/{{ name }}.git); the demo uses it.",
    )


class ScaffoldConfig(_Config):
    max_files: int = Field(default=500, ge=1, alias="maxFiles")
    max_bytes: int = Field(default=5 * 1024 * 1024, ge=1, alias="maxBytes")


class PrometheusConfig(_Config):
    url: str | None = Field(default=None, description="Prometheus base URL for alerts.")
    interval: float = Field(default=30.0, ge=1.0, description="Seconds between alert queries.")


class GrafanaConfig(_Config):
    url: str | None = Field(default=None, description="Grafana base URL for dashboards.")
    token_secret: str = Field(default="portico-grafana-token", alias="tokenSecret")


class OperatorConfig(_Config):
    argocd: ArgoCDConfig = Field(default_factory=ArgoCDConfig)
    github: GithubConfig = Field(default_factory=GithubConfig)
    scaffold: ScaffoldConfig = Field(default_factory=ScaffoldConfig)
    prometheus: PrometheusConfig = Field(default_factory=PrometheusConfig)
    grafana: GrafanaConfig = Field(default_factory=GrafanaConfig)


DEFAULT_RULE = GuardrailRule()
