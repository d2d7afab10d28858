"""System: a group of Components and APIs that make one capability."""

from typing import Annotated

from pydantic import Field

from portico.models.base import Model, OwnerRef, ref_field
from portico.models.common import (
    LINKS_FIELD,
    TAGS_FIELD,
    HealthStatus,
    Link,
    StatusBase,
    TagList,
    Title,
)

DomainRef = Annotated[
    str, ref_field(("domain",), "commerce or domain:commerce", "The Domain it belongs to.")
]


class SystemSpec(Model):
    owner: OwnerRef
    domain: DomainRef | None = None
    type: Annotated[
        str | None, Field(max_length=63, description="Free text, as in Backstage (optional).")
    ] = None
    description: Annotated[str | None, Field(max_length=4096)] = None
    title: Title = None
    tags: TagList = TAGS_FIELD
    links: list[Link] = LINKS_FIELD


class Member(Model):
    ref: str
    health: HealthStatus | None = None
    message: str | None = None


class SystemStatus(StatusBase):
    members: list[Member] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    summary: str | None = None
