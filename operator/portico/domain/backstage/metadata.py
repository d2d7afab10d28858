"""Backstage `metadata` to Kubernetes metadata plus the spec fields Portico keeps it in.

Labels and annotations carry over as they are (Backstage's rules for them are Kubernetes'
rules, or stricter). `title`, `tags` and `links` become `spec.title`, `spec.tags` and
`spec.links`, and `description` `spec.description`: users own spec, and there the API server
checks them at admission with errors that name the field (labels cannot hold tags such as
`c++`, and an annotation would hide links in a JSON string). The original name and namespace,
where the mapping changed them, go to annotations that export reads back.
"""

from dataclasses import dataclass, field
from typing import Any

from portico.domain.backstage.context import ImportContext
from portico.domain.backstage.names import (
    DEFAULT_NAMESPACE,
    ORIGINAL_NAME,
    ORIGINAL_NAMESPACE,
    is_annotation_key,
    is_label_key,
    is_label_value,
    is_namespace,
    is_object_name,
    is_tag,
    kube_name,
)
from portico.domain.backstage.source import Descriptor, Problem

# Set by Backstage's catalog itself, about where it read an entity: not the entity's own.
BACKSTAGE_BOOKKEEPING = frozenset(
    {
        "backstage.io/managed-by-location",
        "backstage.io/managed-by-origin-location",
        "backstage.io/orphan",
    }
)
LINK_FIELDS = ("url", "title", "icon", "type")
MAPPING_PREFIX = "portico.dev/backstage-"


@dataclass
class Converted:
    """An entity's identity and metadata, converted; `problems` empty if all went well."""

    kind: str  # Backstage's kind, lower case
    name: str  # Backstage's name, as written
    namespace: str  # Backstage's namespace (default: `default`)
    metadata: dict[str, Any] = field(default_factory=dict)  # Kubernetes metadata
    spec: dict[str, Any] = field(default_factory=dict)  # title, tags, links, description
    problems: list[Problem] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}"


def entity_label(entity: dict[str, Any], index: int) -> str:
    """How a message names an entity: its reference, or its place in the file."""
    meta = entity.get("metadata") if isinstance(entity.get("metadata"), dict) else {}
    kind = str(entity.get("kind") or "?").lower()
    name = meta.get("name") if isinstance(meta, dict) else None
    ns = (meta.get("namespace") if isinstance(meta, dict) else None) or DEFAULT_NAMESPACE
    return f"{kind}:{ns}/{name}" if name else f"document {index + 1}"


def convert_metadata(desc: Descriptor, ctx: ImportContext, index: int = 0) -> Converted:
    entity = desc.entity
    meta = entity.get("metadata")
    label = entity_label(entity, index)
    out = Converted(kind=str(entity.get("kind") or "").lower(), name="", namespace="")

    def problem(path: str, message: str) -> None:
        out.problems.append(Problem(desc.source, label, path, message))

    if not isinstance(meta, dict):
        problem("metadata", "required: an object with at least a name")
        return out
    name, namespace = meta.get("name"), meta.get("namespace") or DEFAULT_NAMESPACE
    if not is_object_name(name):
        problem(
            "metadata.name",
            f"{name!r} is not a Backstage name: 1-63 characters [a-zA-Z0-9] and - _ . between them",
        )
        return out
    if not is_namespace(namespace):
        problem("metadata.namespace", f"{namespace!r} is not a DNS label")
        return out
    out.name, out.namespace = str(name), str(namespace)
    kname, kns = kube_name(out.name), ctx.kube_namespace(out.namespace)
    annotations = _strings(meta, "annotations", is_annotation_key, lambda v: True, problem)
    labels = _strings(meta, "labels", is_label_key, is_label_value, problem)
    for key in BACKSTAGE_BOOKKEEPING:
        annotations.pop(key, None)
    for key in [k for k in annotations if k.startswith(MAPPING_PREFIX)]:
        del annotations[key]  # only import writes these (export trusts them)
    if kname != out.name:
        annotations[ORIGINAL_NAME] = out.name
    if kns != out.namespace:
        annotations[ORIGINAL_NAMESPACE] = out.namespace
    out.metadata = {"name": kname, "namespace": kns}
    if labels:
        out.metadata["labels"] = labels
    if annotations:
        out.metadata["annotations"] = annotations
    for key in ("title", "description"):
        value = meta.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            problem(f"metadata.{key}", "must be a string")
        elif value.strip():
            out.spec[key] = value
    out.spec.update(_tags(meta.get("tags"), problem))
    out.spec.update(_links(meta.get("links"), problem))
    return out


def _strings(
    meta: dict[str, Any], key: str, key_ok: Any, value_ok: Any, problem: Any
) -> dict[str, str]:
    raw = meta.get(key)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problem(f"metadata.{key}", "must be a map of strings")
        return {}
    out: dict[str, str] = {}
    for k, v in raw.items():
        if not isinstance(k, str) or not key_ok(k):
            problem(f"metadata.{key}.{k}", "is not a valid key ([prefix/]name)")
        elif not isinstance(v, str) or not value_ok(v):
            problem(f"metadata.{key}.{k}", f"{v!r} is not a valid value")
        else:
            out[k] = v
    return out


def _tags(raw: Any, problem: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        problem("metadata.tags", "must be a list of strings")
        return {}
    tags: list[str] = []
    for i, tag in enumerate(raw):
        if not is_tag(tag):
            problem(
                f"metadata.tags[{i}]",
                f"{tag!r} is not a Backstage tag: [a-z0-9:+#] joined by -, 1-63 characters",
            )
        elif tag not in tags:
            tags.append(tag)
    return {"tags": tags} if tags else {}


def _links(raw: Any, problem: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        problem("metadata.links", "must be a list of {url, title, icon, type}")
        return {}
    links: list[dict[str, str]] = []
    for i, link in enumerate(raw):
        if not isinstance(link, dict) or not isinstance(link.get("url"), str):
            problem(f"metadata.links[{i}].url", "required: a URL")
            continue
        if "://" not in link["url"] and not link["url"].startswith("mailto:"):
            problem(f"metadata.links[{i}].url", f"{link['url']!r} is not a URL")
            continue
        links.append({k: str(link[k]) for k in LINK_FIELDS if isinstance(link.get(k), str)})
    return {"links": links} if links else {}
