"""Component: a piece of software (Backstage's Component kind)."""

from typing import Annotated, Literal

from pydantic import Field

from portico.models.base import LIST_MAX, FreeForm, Lifecycle, Model, OwnerRef, ref_field
from portico.models.common import LINKS_FIELD, TAGS_FIELD, Link, StatusBase, TagList, Title

SystemRef = Annotated[
    str, ref_field(("system",), "payments or system:platform/payments", "The System it is part of.")
]
ComponentRef = Annotated[
    str, ref_field(("component",), "ledger or component:ledger", "A Component reference.")
]
ApiRef = Annotated[
    str, ref_field(("api",), "checkout-api or api:platform/auth-api", "An API reference.")
]
AnyRef = Annotated[
    str, ref_field(None, "component:ledger or resource:payments-db", "Any entity reference.")
]

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class TemplateRef(Model):
    name: Annotated[str, Field(max_length=253, description="The Template's name.")]
    namespace: Annotated[
        str | None,
        Field(max_length=63, description="The Template's namespace; defaults to the Component's."),
    ] = None


class Scaffold(Model):
    """Create the repository from a Template, once."""

    template_ref: TemplateRef
    values: FreeForm | None = Field(
        default=None, description="Values for the Template's parameters (validated against them)."
    )
    deletion_policy: Annotated[
        Literal["Retain", "Archive"],
        Field(description="What happens to the repository when the Component is deleted."),
    ] = "Retain"
    update_policy: Annotated[
        Literal["PullRequest", "None"] | None,
        Field(
            description="When the Template or these values change: PullRequest proposes the "
            "new render as a pull request (or an update branch); None proposes nothing. "
            "Default: the Template's spec.updatePolicy."
        ),
    ] = None


class GithubSource(Model):
    owner: Annotated[str, Field(max_length=100, pattern=r"^[A-Za-z0-9][-A-Za-z0-9]*$")]
    repo: Annotated[str, Field(max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]


class Source(Model):
    """An existing repository instead of scaffolding."""

    github: GithubSource | None = None
    git: Annotated[str | None, Field(max_length=2048, description="Any git URL.")] = None


class Destination(Model):
    server: Annotated[str | None, Field(max_length=2048)] = None
    name: Annotated[str | None, Field(max_length=253, description="Argo CD cluster name.")] = None
    namespace: Annotated[str | None, Field(max_length=63, pattern=DNS_LABEL)] = None


class ArgoCD(Model):
    project: Annotated[
        str | None,
        Field(
            max_length=253,
            description="The Argo CD AppProject; default: the first one portico-config allows "
            "for the namespace, or Portico's own project for it (portico-<namespace>).",
        ),
    ] = None
    path: Annotated[str | None, Field(max_length=1024)] = None
    target_revision: Annotated[str | None, Field(max_length=255)] = None
    destination: Destination | None = None
    deletion_policy: Annotated[
        Literal["Delete", "Orphan"] | None,
        Field(
            description="Delete: remove the deployed resources with the Application; "
            "Orphan: keep them running."
        ),
    ] = None


class Deploy(Model):
    argocd: ArgoCD | None = None


class LabelSelectorRequirement(Model):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] | None = None


class LabelSelector(Model):
    match_labels: dict[str, str] | None = None
    match_expressions: list[LabelSelectorRequirement] | None = None


class KubernetesObserve(Model):
    namespace: Annotated[str | None, Field(max_length=63, pattern=DNS_LABEL)] = None
    selector: LabelSelector | None = None


class PrometheusObserve(Model):
    alert_labels: dict[str, str] | None = None


class GrafanaObserve(Model):
    dashboard: bool = False


class Observe(Model):
    kubernetes: KubernetesObserve | None = None
    prometheus: PrometheusObserve | None = None
    grafana: GrafanaObserve | None = None


class ComponentSpec(Model):
    type: Annotated[
        str, Field(min_length=1, max_length=63, description="service | website | library | ...")
    ]
    lifecycle: Lifecycle
    owner: OwnerRef
    system: SystemRef | None = None
    subcomponent_of: ComponentRef | None = None
    provides_apis: Annotated[list[ApiRef], Field(max_length=LIST_MAX)] = Field(default_factory=list)
    consumes_apis: Annotated[list[ApiRef], Field(max_length=LIST_MAX)] = Field(default_factory=list)
    depends_on: Annotated[list[AnyRef], Field(max_length=LIST_MAX)] = Field(default_factory=list)
    description: Annotated[str | None, Field(max_length=4096)] = None
    title: Title = None
    tags: TagList = TAGS_FIELD
    links: list[Link] = LINKS_FIELD
    scaffold: Scaffold | None = None
    source: Source | None = None
    deploy: Deploy | None = Field(
        default=None,
        description="GitOps delivery. Without it, a Component scaffolded from a Template "
        "deploys as the Template's defaults.deploy say; deploy: {} opts out of them.",
    )
    observe: Observe | None = None


class PullRequestStatus(Model):
    number: int | None = None
    url: str | None = None
    state: Annotated[str | None, Field(description="open | closed | merged")] = None
    mergeable: bool | None = Field(
        default=None, description="GitHub's answer; absent while GitHub is still computing it."
    )


class RepositoryUpdate(Model):
    """The render of a newer Template version (or new values), proposed and not merged yet."""

    template_version: str | None = None
    values: FreeForm | None = None
    commit: str | None = Field(default=None, description="The render's commit on the branch.")
    branch: str | None = None
    pull_request: PullRequestStatus | None = None
    proposed_at: str | None = None


class Repository(Model):
    url: str | None = None
    default_branch: str | None = None
    commit: str | None = Field(default=None, description="The scaffold commit.")
    template: str | None = None
    scaffolded_at: str | None = None
    template_version: str | None = Field(
        default=None,
        description="The Template version (a digest of what affects the render) whose render "
        "the default branch holds.",
    )
    values: FreeForm | None = Field(default=None, description="The values of that render.")
    update: RepositoryUpdate | None = None


class ArgoCDStatus(Model):
    application: str | None = None
    sync: str | None = None
    health: str | None = None
    revision: str | None = None
    operation_phase: str | None = None
    message: str | None = None


class GrafanaStatus(Model):
    dashboard_uid: str | None = None
    url: str | None = None
    content_hash: str | None = None


class CIStatus(Model):
    """The GitHub Actions run on the default branch that decides the ci signal (docs/ci.md)."""

    repository: str | None = Field(default=None, description="owner/name on GitHub.")
    branch: str | None = Field(default=None, description="The default branch.")
    workflow: str | None = Field(default=None, description="The workflow's name.")
    path: str | None = Field(default=None, description="e.g. .github/workflows/ci.yml")
    run_id: int | None = None
    run_number: int | None = None
    event: str | None = Field(default=None, description="push, schedule, workflow_dispatch...")
    status: str | None = Field(default=None, description="queued | in_progress | completed ...")
    conclusion: str | None = Field(default=None, description="success | failure | ...")
    url: str | None = Field(default=None, description="The run on GitHub.")
    commit: str | None = Field(default=None, description="The run's head commit.")
    updated_at: str | None = Field(default=None, description="When GitHub last changed the run.")
    last_conclusion: str | None = Field(
        default=None,
        description="The conclusion of the newest completed runs (each counted workflow's "
        "newest run that concluded; the worst decides: failure before success or neutral). "
        "A run under way leaves it as it was; absent until a counted run has completed.",
    )
    message: str | None = None


class ComponentStatus(StatusBase):
    repository: Repository | None = None
    argocd: ArgoCDStatus | None = None
    grafana: GrafanaStatus | None = None
    ci: CIStatus | None = None
    links: list[Link] = Field(
        default_factory=list,
        description="What Portico derived: docs (backstage.io/techdocs-ref, resolved against "
        "the repository) and the dashboard (Portico's, or grafana/overview-dashboard).",
    )


COMPONENT_RULES = [
    {
        "rule": "!(has(self.scaffold) && has(self.source))",
        "message": "spec.scaffold and spec.source are mutually exclusive: scaffold a new "
        "repository or point at an existing one",
    },
]
