"""The operator's cluster-admin configuration: `config.yaml` in the portico-config ConfigMap.

```yaml
tenancy: {...}                      # what each namespace may make Portico do (models/tenancy.py)
argocd:
  namespace: argocd                 # where Applications (and Portico's AppProjects) live
  unresponsiveSeconds: 120          # then say no Argo CD controller acts (docs/argocd.md)
github: {apiUrl: ..., tokenSecret: portico-github-token}
scaffold: {maxFiles: 500, maxBytes: 5242880, renderSeconds: 10, renderMemoryMiB: 768}
prometheus: {url: ..., interval: 30}
grafana: {url: ..., tokenSecret: portico-grafana-token}
```
"""

from pydantic import BaseModel, ConfigDict, Field

from portico.models.tenancy import IN_CLUSTER as IN_CLUSTER
from portico.models.tenancy import TenancyConfig


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class ArgoCDConfig(_Config):
    namespace: str = "argocd"
    unresponsive_seconds: float = Field(
        default=120.0,
        ge=1,
        le=86400,
        alias="unresponsiveSeconds",
        description="Seconds an Application may go without any Argo CD application-controller "
        "acting on it (a new one never reconciled, a deleted one not removed) before "
        "Components say ArgoCDNotResponding and how to get out of it.",
    )


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
    render_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        alias="renderSeconds",
        description="CPU and wall-clock seconds one render of tenant templates may take.",
    )
    render_memory_mib: int = Field(
        default=384,
        ge=128,
        le=16384,
        alias="renderMemoryMiB",
        description="Address-space limit of the process that renders tenant templates.",
    )
    render_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        alias="renderConcurrency",
        description="Render processes at once.",
    )
    update_recheck_seconds: float = Field(
        default=600.0,
        ge=10,
        le=86400,
        alias="updateRecheckSeconds",
        description="Seconds between two reads of an open update pull request (merged? "
        "conflicting?): one GET each, about 6 an hour per open pull request.",
    )


class PrometheusConfig(_Config):
    url: str | None = Field(default=None, description="Prometheus base URL for alerts.")
    interval: float = Field(default=30.0, ge=1.0, description="Seconds between alert queries.")


class GrafanaConfig(_Config):
    url: str | None = Field(default=None, description="Grafana base URL for dashboards.")
    token_secret: str = Field(default="portico-grafana-token", alias="tokenSecret")


class OperatorConfig(_Config):
    tenancy: TenancyConfig = Field(default_factory=TenancyConfig)
    argocd: ArgoCDConfig = Field(default_factory=ArgoCDConfig)
    github: GithubConfig = Field(default_factory=GithubConfig)
    scaffold: ScaffoldConfig = Field(default_factory=ScaffoldConfig)
    prometheus: PrometheusConfig = Field(default_factory=PrometheusConfig)
    grafana: GrafanaConfig = Field(default_factory=GrafanaConfig)
