"""API: an interface between Components (Backstage's API kind)."""

from typing import Annotated, Literal

from pydantic import Field

from portico.models.base import Lifecycle, Model, OwnerRef
from portico.models.common import LINKS_FIELD, TAGS_FIELD, Link, StatusBase, TagList, Title
from portico.models.component import SystemRef


class ApiSpec(Model):
    type: Annotated[
        Literal["openapi", "asyncapi", "graphql", "grpc"],
        Field(description="openapi | asyncapi | graphql | grpc"),
    ]
    lifecycle: Lifecycle
    owner: OwnerRef
    system: SystemRef | None = None
    description: Annotated[str | None, Field(max_length=4096)] = None
    title: Title = None
    tags: TagList = TAGS_FIELD
    links: list[Link] = LINKS_FIELD
    definition: Annotated[
        str, Field(max_length=1_048_576, description="The API definition document, inline.")
    ]


class DefinitionStatus(Model):
    valid: bool
    message: str = ""


class ApiStatus(StatusBase):
    providers: list[str] = Field(default_factory=list)
    consumers: list[str] = Field(default_factory=list)
    definition: DefinitionStatus | None = None
