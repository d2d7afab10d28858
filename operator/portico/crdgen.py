"""Generate the CustomResourceDefinitions from the pydantic models (like controller-gen).

Pydantic emits JSON Schema with `$ref`s, `anyOf [X, null]` for optional fields and titles;
Kubernetes wants a structural OpenAPI v3 schema: every node typed, no refs, nullable fields
simply optional. `structural()` does that translation; `crd()` wraps it with names, printer
columns and the status subresource. `make manifests` writes the result to `crds/`, and a
test fails when `crds/` differs from what the models say.
"""

from typing import Any

from portico.models.kinds import API_VERSION, CATEGORY, GROUP, KINDS, VERSION, KindInfo

_DROP = {"title", "$defs", "discriminator"}


def structural(node: Any, defs: dict[str, Any]) -> Any:
    """Translate one pydantic JSON Schema node into a structural schema node."""
    if isinstance(node, list):
        return [structural(n, defs) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return structural(merged, defs)
    if "anyOf" in node:
        options = [o for o in node["anyOf"] if o.get("type") != "null"]
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        if len(options) == 1:
            return structural({**options[0], **rest}, defs)
        raise ValueError(f"cannot express anyOf {node['anyOf']} structurally")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP:
            continue
        if key == "default" and (value in (None, "") or isinstance(value, list | dict)):
            continue  # only scalar defaults go into the schema; the models default the rest
        if key == "additionalProperties":
            if value is True:
                out["x-kubernetes-preserve-unknown-fields"] = True
            elif isinstance(value, dict):
                out[key] = structural(value, defs)
            continue  # `false` is implied by structural schemas
        if key == "const":
            out["enum"] = [value]
            continue
        if key == "properties":
            out[key] = {name: structural(v, defs) for name, v in value.items()}
            continue
        out[key] = structural(value, defs)
    if "enum" in out and "type" not in out:
        out["type"] = "string"
    return out


def schema_of(model: type[Any]) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    result: dict[str, Any] = structural(raw, raw.get("$defs", {}))
    return result


def crd(info: KindInfo) -> dict[str, Any]:
    spec_schema = schema_of(info.spec)
    if info.rules:
        spec_schema["x-kubernetes-validations"] = list(info.rules)
    status_schema = schema_of(info.status)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{info.plural}.{GROUP}",
            "labels": {"app.kubernetes.io/part-of": "portico"},
        },
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": info.kind,
                "listKind": f"{info.kind}List",
                "plural": info.plural,
                "singular": info.singular,
                "shortNames": list(info.short_names),
                "categories": [CATEGORY],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": list(info.columns),
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": f"{info.description} ({API_VERSION})",
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                                "status": status_schema,
                            },
                        }
                    },
                }
            ],
        },
    }


def all_crds() -> dict[str, dict[str, Any]]:
    """File name (kubebuilder's `<group>_<plural>.yaml`) -> CRD."""
    return {f"{GROUP}_{info.plural}.yaml": crd(info) for info in KINDS}
