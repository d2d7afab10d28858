"""Model base classes and the schema annotations shared by every kind."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

# Backstage's rules (catalog-model's KubernetesValidatorFunctions): a name starts and ends
# with [a-zA-Z0-9] and has [-_.a-zA-Z0-9] between, at most 63 characters; namespaces are DNS
# labels. Kinds are letters and digits; Portico writes them lower case.
NAME_RE = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
NAMESPACE_RE = r"[a-z0-9]+(-+[a-z0-9]+)*"
KIND_RE = r"[a-zA-Z][a-zA-Z0-9]*"
REF_MAX = 253
LIST_MAX = 100


def ref_pattern(kinds: tuple[str, ...] | None) -> str:
    """The RE2 pattern of `[kind:][namespace/]name`, optionally restricted to some kinds."""
    kind = KIND_RE if kinds is None else "|".join(kinds)
    return f"^(({kind}):)?({NAMESPACE_RE}/)?{NAME_RE}$"


def _ref_rule(kinds: tuple[str, ...] | None, example: str) -> dict[str, Any]:
    allowed = "" if kinds is None else f" (kind, if given: {', '.join(kinds)})"
    return {
        "rule": f"self.matches('{ref_pattern(kinds)}')",
        "message": f"must be an entity reference [kind:][namespace/]name{allowed}, e.g. {example}",
    }


def ref_field(kinds: tuple[str, ...] | None, example: str, description: str) -> Any:
    """Field metadata for a Backstage entity reference, checked by a CEL rule."""
    return Field(
        max_length=REF_MAX,
        description=description,
        json_schema_extra={"x-kubernetes-validations": [_ref_rule(kinds, example)]},
    )


OWNER_PATTERN = f"^(group|user):({NAMESPACE_RE}/)?{NAME_RE}$"
OWNER_RULE = {
    "rule": f"self.matches('{OWNER_PATTERN}')",
    "message": "must be a group: or user: reference (every entity must have an owner), "
    "e.g. group:payments-team or user:default/jane",
}

OwnerRef = Annotated[
    str,
    Field(
        max_length=REF_MAX,
        description="Who owns the entity: a group: or user: reference, e.g. group:payments-team.",
        json_schema_extra={"x-kubernetes-validations": [OWNER_RULE]},
    ),
]

# Free-form subtrees (template values, JSON Schemas): kept as they are by the API server.
FreeForm = Annotated[
    dict[str, Any],
    WithJsonSchema({"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
]

Lifecycle = Annotated[
    str,
    Field(
        description="experimental | production | deprecated, as in Backstage.",
        json_schema_extra={"enum": ["experimental", "production", "deprecated"]},
    ),
]


class Model(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields ignored when parsing
    (the API server has already pruned them), frozen so decisions cannot mutate inputs."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
    )

    def wire(self) -> dict[str, Any]:
        """The object as the API server stores it: camelCase, unset fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")
