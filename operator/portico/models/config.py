"""The operator's cluster-admin configuration: `config.yaml` in the portico-config ConfigMap.

```yaml
tenancy: {...}                      # what each namespace may make Portico do (models/tenancy.py)
argocd:
  namespace: argocd                 # where Applications (and Portico's AppProjects) live
  unresponsiveSeconds: 120          # then say no Argo CD controller acts (docs/argocd.md)
github: {apiUrl: ..., tokenSecret: portico-github-token, poll: {...}, ci: {...}}
scaffold: {maxFiles: 500, maxBytes: 5242880, renderSeconds: 10, renderMemoryMiB: 768}
prometheus: {url: ..., interval: 30}
grafana: {url: ..., tokenSecret: portico-grafana-token, searchIntervalSeconds: 60}
scorecards: {levels: [...], checks: [...]}   # models/scorecards.py
```
"""

from pydantic import BaseModel, ConfigDict, Field

from portico.models.scorecards import ScorecardConfig
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


class GithubPollConfig(_Config):
    """How Portico reads GitHub for signals (CI runs, archived or deleted repositories)."""

    enabled: bool = Field(
        default=True, description="Poll GitHub for the signals below (needs the token)."
    )
    interval_seconds: float = Field(
        default=300.0,
        ge=1,
        le=86400,
        alias="intervalSeconds",
        description="Seconds between two reads of one repository's CI runs, at best "
        "(jittered); a large catalog stretches the round to keep to the budgets below.",
    )
    repository_every: int = Field(
        default=6,
        ge=1,
        le=1000,
        alias="repositoryEvery",
        description="Read a repository itself (archived? deleted? default branch?) every "
        "Nth round.",
    )
    requests_per_hour: int = Field(
        default=4000,
        ge=1,
        le=1000000,
        alias="requestsPerHour",
        description="Requests the polls may spend that count against GitHub's rate limit "
        "(a 304 Not Modified does not); the rest of the hour's 5,000 is left for "
        "scaffolding and updates.",
    )
    requests_per_minute: int = Field(
        default=600,
        ge=1,
        le=100000,
        alias="requestsPerMinute",
        description="All poll requests a minute, 304s included (GitHub's secondary rate "
        "limits count them).",
    )


class CIConfig(_Config):
    """CI runs (GitHub Actions) as the `ci` health signal."""

    enabled: bool = True
    workflows: tuple[str, ...] = Field(
        default=(),
        description="Workflows that count, by file name (ci.yml) or name; empty: every "
        "workflow on the default branch.",
    )
    affects_health: bool = Field(
        default=True,
        alias="affectsHealth",
        description="false: a red CI is reported in status.ci but does not degrade health.",
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
    poll: GithubPollConfig = Field(default_factory=GithubPollConfig)
    ci: CIConfig = Field(default_factory=CIConfig)


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
    search_interval_seconds: float = Field(
        default=60.0,
        ge=1,
        le=86400,
        alias="searchIntervalSeconds",
        description="Seconds between two searches of Grafana's dashboards (for the "
        "grafana/dashboard-selector annotation): one paged search for the whole catalog.",
    )


class OperatorConfig(_Config):
    tenancy: TenancyConfig = Field(default_factory=TenancyConfig)
    argocd: ArgoCDConfig = Field(default_factory=ArgoCDConfig)
    github: GithubConfig = Field(default_factory=GithubConfig)
    scaffold: ScaffoldConfig = Field(default_factory=ScaffoldConfig)
    prometheus: PrometheusConfig = Field(default_factory=PrometheusConfig)
    grafana: GrafanaConfig = Field(default_factory=GrafanaConfig)
    scorecards: ScorecardConfig = Field(default_factory=ScorecardConfig)
