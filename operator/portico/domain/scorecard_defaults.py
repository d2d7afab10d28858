"""Portico's default scorecard: what a platform team can ask of every Component on day one.

Bronze is ownership (an owner, a System, a description, a repository that is not stale);
silver is "you can find out about it and see it run" (docs, a dashboard, and in production
workloads Portico observes); gold is "it is operated" (alerts, CI, CI that passes). A
cluster admin replaces the whole list with `scorecards.checks` in portico-config.
"""

from portico.models.scorecards import ScorecardCheck

_STALE = '(c.type == "RepositoryMissing" || c.type == "RepositoryArchived") && c.status == "True"'


def _check(name: str, level: str, expression: str, description: str, message: str,
           **scope: tuple[str, ...]) -> ScorecardCheck:  # fmt: skip
    return ScorecardCheck(
        name=name,
        level=level,
        expression=expression,
        description=description,
        message=message,
        **scope,
    )


DEFAULT_CHECKS: tuple[ScorecardCheck, ...] = (
    _check(
        "owner",
        "bronze",
        'has(self.spec.owner) && self.spec.owner != ""',
        "has an owner",
        "set spec.owner to the group that answers for it",
    ),
    _check(
        "description",
        "bronze",
        'has(self.spec.description) && self.spec.description != ""',
        "says what it is",
        "set spec.description",
    ),
    _check(
        "system",
        "bronze",
        'has(self.spec.system) && self.spec.system != ""',
        "is part of a System",
        "set spec.system to the System it belongs to",
    ),
    _check(
        "repository",
        "bronze",
        f"!has(self.status.conditions) || !self.status.conditions.exists(c, {_STALE})",
        "its repository is neither deleted nor archived",
        "its GitHub repository is deleted or archived (see the RepositoryMissing and "
        "RepositoryArchived conditions): move it to a live repository or retire it",
    ),
    _check(
        "docs",
        "silver",
        'has(self.status.links) && self.status.links.exists(l, l.type == "docs")',
        "has docs",
        "add a backstage.io/techdocs-ref annotation (dir:<path in the repository> or "
        "url:<docs URL>)",
    ),
    _check(
        "dashboard",
        "silver",
        'has(self.status.links) && self.status.links.exists(l, l.type == "dashboard")',
        "has a dashboard",
        "set spec.observe.grafana, or a grafana/overview-dashboard or "
        "grafana/dashboard-selector annotation",
    ),
    _check(
        "production-observed",
        "silver",
        'has(self.status.health) && self.status.health.signals.exists(s, s.source == "kubernetes")',
        "in production, its workloads are observed",
        "select its Deployments with spec.observe.kubernetes or a "
        "backstage.io/kubernetes-id annotation",
        lifecycles=("production",),
    ),
    _check(
        "alerts",
        "gold",
        "(has(self.spec.observe) && has(self.spec.observe.prometheus)) || "
        '"prometheus.io/alert" in self.metadata.annotations',
        "has Prometheus alerts",
        "select its alerts with spec.observe.prometheus or a prometheus.io/alert annotation",
    ),
    _check(
        "ci",
        "gold",
        "has(self.status.ci)",
        "runs CI (GitHub Actions) on its default branch",
        "add a GitHub Actions workflow to its repository (known from its scaffold, "
        "spec.source.github or the github.com/project-slug annotation)",
    ),
    _check(
        "ci-passing",
        "gold",
        "has(self.status.ci) && has(self.status.ci.lastConclusion) && "
        'self.status.ci.lastConclusion in ["success", "neutral"]',
        "CI passes on its default branch (the last completed run decides: a run in progress "
        "does not move the level on every push)",
        "make the latest workflow run on the default branch pass",
    ),
)
