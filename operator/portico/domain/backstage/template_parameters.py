"""Backstage's form (`spec.parameters`) as the Portico Template's one JSON Schema, and what
its parameters read as in Jinja.

Backstage's form is pages of draft-07 schema; a Portico Template has one 2020-12 schema, which
is also the Component's values. A step input's `parameters.x` is the value `values.x`, but
nunjucks renders an undefined value as "" where StrictUndefined fails, so an optional
parameter without a default reads `(values.x | default(""))`; a boolean or list parameter
written alone is written as nunjucks would (`| lower`, `| join(",")`).
"""

from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from portico.domain.backstage.nunjucks import Names

Report = Callable[[str, str], None]  # a problem: (field, message)

# A page's rules about the page as a whole; the merged schema keeps each in its allOf.
_PAGE_RULES = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependencies")
# Where draft-07 (Backstage's forms) keeps subschemas: maps of them, one, lists of them.
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs")
_SCHEMA_ONE = ("additionalProperties", "items", "contains", "not", "if", "then", "else")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")

STEP_ONLY = {
    "steps": "outputs of other steps: Portico runs no steps",
    "user": "the user who runs the template: Portico renders for a Component, not a user",
    "secrets": "secrets: Portico passes none to a render",
    "each": "a step loop: Portico runs no steps",
}


def to_2020(schema: Any) -> Any:
    """A draft-07 schema as 2020-12: `dependencies` becomes `dependentRequired` and
    `dependentSchemas`, a list of `items` becomes `prefixItems`. Other keywords stay."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in _SCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {k: to_2020(v) for k, v in out[key].items()}
    for key in _SCHEMA_ONE:
        out[key] = to_2020(out[key]) if isinstance(out.get(key), dict) else out.get(key)
    for key in _SCHEMA_LISTS:
        out[key] = (
            [to_2020(v) for v in out[key]] if isinstance(out.get(key), list) else out.get(key)
        )
    if isinstance(out.get("items"), list):
        out["prefixItems"] = [to_2020(v) for v in out["items"]]
        out["items"] = to_2020(out.pop("additionalItems", None))
    deps = out.pop("dependencies", None)
    deps = deps if isinstance(deps, dict) else {}
    out["dependentRequired"] = {k: v for k, v in deps.items() if isinstance(v, list)} or None
    out["dependentSchemas"] = {
        k: to_2020(v) for k, v in deps.items() if isinstance(v, dict)
    } or None
    return {k: v for k, v in out.items() if v is not None or schema.get(k, 0) is None}


def merge_parameters(raw: Any, problem: Report, unsupported: list[str]) -> dict[str, Any] | None:
    """Backstage's form pages (one object or a list) as one JSON Schema object.

    Properties merge and `required` is their union. A page's rules about itself (allOf, oneOf,
    if/then, dependencies) go to `allOf`, so each holds as it did on its page. `ui:*` keywords
    stay on the properties: JSON Schema ignores keywords it does not know, and they keep the
    form's pickers and hints (publish reads `ui:options.allowedOwners`, export could give them
    back). A page's own `title` and `ui:*` describe a page that is gone, and are dropped."""
    if raw is None:
        return None
    pages = raw if isinstance(raw, list) else [raw]
    props: dict[str, Any] = {}
    first: dict[str, str] = {}
    schema: dict[str, Any] = {"type": "object", "properties": props, "required": [], "allOf": []}
    for i, page in enumerate(pages):
        at = f"spec.parameters[{i}]" if isinstance(raw, list) else "spec.parameters"
        if not isinstance(page, dict) or not isinstance(page.get("properties", {}), dict):
            problem(at, "must be an object schema with properties")
            continue
        for name, prop in page.get("properties", {}).items():
            if name in first and props[name] != to_2020(prop):
                problem(
                    f"{at}.properties.{name}", f"differs from {first[name]}: one value, one schema"
                )
            props.setdefault(name, to_2020(prop))
            first.setdefault(name, f"{at}.properties.{name}")
        required = _as(page.get("required"), list, [])
        schema["required"] += [r for r in required if r not in schema["required"]]
        rules = to_2020({k: page[k] for k in _PAGE_RULES if k in page})
        schema["allOf"] += rules.pop("allOf", []) + ([rules] if rules else [])
        for key in ("definitions", "$defs"):
            for name, sub in _as(page.get(key), dict, {}).items():
                if schema.setdefault(key, {}).setdefault(name, to_2020(sub)) != to_2020(sub):
                    problem(f"{at}.{key}.{name}", "defined differently on another page")
        if "backstage:permissions" in page:
            unsupported.append(f"{at}.backstage:permissions: Portico's access is Kubernetes RBAC")
    schema = {k: v for k, v in schema.items() if v or k == "properties"}
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as e:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path)
        problem(f"spec.parameters{where}", f"not a valid JSON Schema once merged: {e.message}")
        return None
    return schema


def parameter_names(schema: Mapping[str, Any]) -> Names:
    """How a step input's `parameters.x` reads in Portico: `values.x`, or `""` for an optional
    parameter without a default (nunjucks renders an undefined value as "")."""
    required = set(schema.get("required") or [])

    def lookup(key: str) -> str:
        ref = f"values.{key}" if key.isidentifier() else f'values["{key}"]'
        certain = key in required or "default" in _prop(schema, key)
        return ref if certain else f'({ref} | default(""))'

    props = schema.get("properties") or {}
    filters = {"boolean": "lower", "array": 'join(",")'}
    types = {k: _prop(schema, k).get("type") for k in props}
    written = {k: filters[t] for k, t in types.items() if isinstance(t, str) and t in filters}
    return Names("parameters", lookup, written, STEP_ONLY)


def allowed_owners(schema: Mapping[str, Any], name: str) -> list[Any]:
    """The owners a RepoUrlPicker parameter allows (`ui:options.allowedOwners`), or none."""
    return list(
        _as(_as(_prop(schema, name).get("ui:options"), dict, {}).get("allowedOwners"), list, [])
    )


def _as(value: Any, kind: type, default: Any) -> Any:
    return value if isinstance(value, kind) else default


def _prop(schema: Mapping[str, Any], name: str) -> dict[str, Any]:
    return dict(_as(_as(schema.get("properties"), dict, {}).get(name), dict, {}))
