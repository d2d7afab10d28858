"""Template: a golden path (Backstage's scaffolder Template, declarative)."""

from typing import Annotated, Literal

from pydantic import Field

from portico.models.base import LIST_MAX, FreeForm, Model, OwnerRef
from portico.models.common import LINKS_FIELD, TAGS_FIELD, Link, StatusBase, TagList
from portico.models.component import Deploy, Observe


class SkeletonFile(Model):
    path: Annotated[str, Field(min_length=1, max_length=1024, description="Jinja template.")]
    content: Annotated[str, Field(max_length=1_048_576, description="Jinja template.")] = ""


class SkeletonConfigMap(Model):
    name: Annotated[str, Field(max_length=253)]
    path: Annotated[
        str | None,
        Field(max_length=1024, description="Directory the ConfigMap's keys are placed in."),
    ] = None


class Skeleton(Model):
    files: Annotated[list[SkeletonFile], Field(max_length=1000)] = Field(default_factory=list)
    config_maps: Annotated[list[SkeletonConfigMap], Field(max_length=LIST_MAX)] = Field(
        default_factory=list
    )


class GithubPublish(Model):
    owner: Annotated[str, Field(max_length=100, pattern=r"^[A-Za-z0-9][-A-Za-z0-9]*$")]
    visibility: Literal["public", "private", "internal"] = "private"
    topics: Annotated[list[str], Field(max_length=20)] = Field(default_factory=list)
    repo_name: Annotated[
        str | None,
        Field(max_length=1024, description="Jinja template of the repository name."),
    ] = None
    branch_protection: bool = False


class GitPublish(Model):
    url: Annotated[str, Field(max_length=2048, description="Jinja template of a git URL.")]


class Publish(Model):
    github: GithubPublish | None = None
    git: GitPublish | None = None


class Defaults(Model):
    deploy: Deploy | None = None
    observe: Observe | None = None


class ExpectedFile(Model):
    path: str
    content: str | None = None
    contains: str | None = None


class TemplateTest(Model):
    name: Annotated[str, Field(max_length=253)]
    values: FreeForm | None = None
    expect: Annotated[list[ExpectedFile], Field(max_length=1000)] = Field(default_factory=list)


class TemplateSpec(Model):
    owner: OwnerRef
    title: Annotated[str | None, Field(max_length=256)] = None
    description: Annotated[str | None, Field(max_length=4096)] = None
    tags: TagList = TAGS_FIELD
    links: list[Link] = LINKS_FIELD
    type: Annotated[str, Field(min_length=1, max_length=63)] = "service"
    parameters: FreeForm | None = Field(
        default=None, description="A JSON Schema (object) the Component's values must satisfy."
    )
    skeleton: Skeleton | None = None
    publish: Publish | None = None
    defaults: Defaults | None = None
    dashboard: Annotated[
        str | None,
        Field(
            max_length=262_144,
            description="Jinja template of the Grafana dashboard JSON for Components scaffolded "
            "from it (default: Portico's golden-signals dashboard).",
        ),
    ] = None
    tests: Annotated[list[TemplateTest], Field(max_length=LIST_MAX)] = Field(default_factory=list)
    update_policy: Annotated[
        Literal["PullRequest", "None"],
        Field(
            description="When this Template's render changes, each repository scaffolded from "
            "it gets the new render as a pull request (PullRequest), or nothing (None). A "
            "Component's spec.scaffold.updatePolicy overrides it."
        ),
    ] = "PullRequest"


class TestResult(Model):
    name: str
    passed: bool
    message: str = ""


class VersionCount(Model):
    version: str
    components: int


class UpdateCounts(Model):
    up_to_date: int = 0
    open: int = Field(default=0, description="Pull requests (or update branches) open.")
    conflicting: int = 0
    declined: int = Field(default=0, description="Pull requests closed without merging.")
    pending: int = Field(default=0, description="Behind, with nothing proposed yet.")
    failed: int = 0
    disabled: int = Field(default=0, description="Behind, with updatePolicy None.")


class TemplateStatus(StatusBase):
    tests: list[TestResult] = Field(default_factory=list)
    test_summary: str | None = None
    scaffolded: int | None = None
    version: str | None = Field(
        default=None, description="This Template's version: a digest of what affects a render."
    )
    versions: list[VersionCount] = Field(
        default_factory=list, description="How many Components are on each version."
    )
    updates: UpdateCounts | None = None
    update_summary: str | None = None


TEMPLATE_RULES = [
    {
        "rule": "!has(self.publish) || !(has(self.publish.github) && has(self.publish.git))",
        "message": "spec.publish.github and spec.publish.git are mutually exclusive",
    },
]
