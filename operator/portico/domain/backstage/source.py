"""What the import reads: descriptor documents with where they came from, and problems that
name the file, the entity and the field."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Descriptor:
    """One YAML document of a descriptor file, its placeholders resolved."""

    entity: dict[str, Any]
    source: str  # the file path or URL it was read from (relative targets resolve against it)


@dataclass(frozen=True)
class Problem:
    """Why something could not be read or converted."""

    source: str  # the file or URL
    entity: str  # e.g. "component:default/checkout", or "document 3" before a name is known
    field: str  # e.g. "spec.owner", or "" for the whole document
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.entity}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class DescriptorError(Exception):
    """A read that failed: the message names the file or URL and says why."""


# Reads the files of a skeleton directory: given the `url` input of a `fetch:template` step
# and the descriptor's source, returns {relative path: bytes}, or raises DescriptorError.
SkeletonReader = Callable[[str, str], Mapping[str, bytes]]
