"""Backstage entity references: `[kind:][namespace/]name`."""

import re
from typing import NamedTuple

from portico.models.base import KIND_RE, NAME_RE, NAMESPACE_RE

_REF = re.compile(rf"^(?:(?P<kind>{KIND_RE}):)?(?:(?P<ns>{NAMESPACE_RE})/)?(?P<name>{NAME_RE})$")

# Kinds Portico serves as objects; references to any other kind (group, user, resource,
# domain, ...) are recorded as relations but cannot be checked for existence.
SERVED_KINDS = frozenset({"component", "api", "system", "template"})


class InvalidRef(ValueError):
    """A string that is not an entity reference."""


class EntityKey(NamedTuple):
    """The identity of an entity: lower-case kind, namespace, name."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}"

    @property
    def served(self) -> bool:
        return self.kind in SERVED_KINDS


def parse_ref(ref: str, *, default_kind: str | None, default_namespace: str) -> EntityKey:
    """Parse a reference, filling the kind and namespace defaults as Backstage does."""
    match = _REF.match(ref.strip())
    if not match:
        raise InvalidRef(f"{ref!r} is not an entity reference [kind:][namespace/]name")
    kind = match["kind"] or default_kind
    if kind is None:
        raise InvalidRef(f"{ref!r} needs a kind, e.g. component:{ref}")
    return EntityKey(kind.lower(), match["ns"] or default_namespace, match["name"])
