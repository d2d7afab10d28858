"""`portico import`, decided: descriptors in, Portico manifests and a summary out."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from portico.domain.backstage.context import ImportContext
from portico.domain.backstage.entities import FIELDS, KIND_NAMES, convert_entity
from portico.domain.backstage.metadata import entity_label
from portico.domain.backstage.names import DEFAULT_NAMESPACE
from portico.domain.backstage.source import Descriptor, Problem, SkeletonReader
from portico.domain.backstage.templates import convert_template
from portico.domain.refs import SERVED_KINDS

# Kinds Portico does not serve: an import keeps references to them, and lists them.
REFERENCE_ONLY = frozenset({"group", "user", "resource", "domain"})
TEMPLATE_API = "scaffolder.backstage.io/v1beta3"
ENTITY_APIS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")


@dataclass
class ImportResult:
    manifests: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    converted: Counter[str] = field(default_factory=Counter)  # by Portico kind
    reference_only: list[str] = field(default_factory=list)  # Backstage refs, as written
    unsupported: list[str] = field(default_factory=list)  # template steps and dropped fields
    dangling: list[str] = field(default_factory=list)  # references to entities not imported
    broken: list[str] = field(default_factory=list)  # references to entities that failed


def import_descriptors(
    descriptors: list[Descriptor], ctx: ImportContext, read_skeleton: SkeletonReader
) -> ImportResult:
    result = ImportResult()
    clash = _namespace_clash(descriptors, ctx)
    if clash is not None:
        result.problems.append(clash)
        return result
    seen: dict[tuple[str, str, str], str] = {}
    references: list[tuple[str, str, str]] = []  # (entity, field, target key)
    failed: set[tuple[str, str, str]] = set()
    for index, desc in enumerate(descriptors):
        kind = str(desc.entity.get("kind") or "").lower()
        label = entity_label(desc.entity, index)
        if kind in REFERENCE_ONLY:
            result.reference_only.append(label)
            continue
        wrong = _envelope(desc.entity, kind)
        if wrong is not None:
            result.problems.append(Problem(desc.source, label, *wrong))
            continue
        if kind == "template" and desc.entity.get("apiVersion") == TEMPLATE_API:
            conversion = convert_template(desc, ctx, read_skeleton, index)
            result.problems += conversion.problems
            result.unsupported += [f"{label}: {u}" for u in conversion.unsupported]
            manifests = conversion.manifests
        elif kind in FIELDS:
            entity = convert_entity(desc, ctx, index)
            meta = entity.converted.metadata
            if entity.manifest is None and meta:
                failed.add((kind, meta["namespace"], meta["name"]))
            result.problems += entity.converted.problems
            result.unsupported += [f"{label}: {d} has no Portico field" for d in entity.dropped]
            references += [(label, path, target) for path, target in entity.references]
            manifests = [entity.manifest] if entity.manifest is not None else []
        else:
            field_ = "kind" if kind else "kind (missing)"
            what = desc.entity.get("kind") or "(none)"
            result.problems.append(
                Problem(desc.source, label, field_, f"{what!r} is not a kind Portico imports")
            )
            continue
        for manifest in manifests:
            meta = manifest["metadata"]
            key = (manifest["kind"], meta["namespace"], meta["name"])
            if key in seen:
                result.problems.append(
                    Problem(
                        desc.source,
                        label,
                        "metadata.name",
                        f"{key[0]} {key[1]}/{key[2]} is also defined by {seen[key]}",
                    )
                )
                continue
            seen[key] = f"{desc.source} ({label})"
            result.manifests.append(manifest)
            result.converted[manifest["kind"]] += 1
    imported = {(k.lower(), ns, name) for k, ns, name in seen}
    for label, path, target in references:
        kind, rest = target.split(":", 1)
        ns, name = rest.split("/", 1)
        if (kind, ns, name) in failed:
            result.broken.append(f"{label}: {path} -> {target}")
        elif kind in SERVED_KINDS and (kind, ns, name) not in imported:
            result.dangling.append(f"{label}: {path} -> {target}")
    return result


def _envelope(entity: dict[str, Any], kind: str) -> tuple[str, str] | None:
    """Backstage's kinds are case-sensitive and versioned: (field, message) if this is not one
    Portico converts as written."""
    if kind not in KIND_NAMES or kind == "template":
        return None
    if entity.get("kind") != KIND_NAMES[kind]:
        return "kind", f"{entity.get('kind')!r}: Backstage's kind is {KIND_NAMES[kind]!r}"
    if entity.get("apiVersion") not in ENTITY_APIS:
        return "apiVersion", f"{entity.get('apiVersion')!r} is not one of {', '.join(ENTITY_APIS)}"
    return None


def _namespace_clash(descriptors: list[Descriptor], ctx: ImportContext) -> Problem | None:
    """`-n NS` moves Backstage's `default` namespace into NS; if the input also has entities in
    a Backstage namespace NS, the two would merge and export could not tell them apart."""
    if ctx.namespace == DEFAULT_NAMESPACE:
        return None
    for desc in descriptors:
        meta = desc.entity.get("metadata")
        if isinstance(meta, dict) and meta.get("namespace") == ctx.namespace:
            return Problem(
                desc.source,
                entity_label(desc.entity, 0),
                "metadata.namespace",
                f"-n {ctx.namespace} would merge Backstage's default namespace into this "
                "entity's namespace of the same name; choose another -n",
            )
    return None


def summary(result: ImportResult) -> str:
    """What a person reads on stderr after an import."""
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(result.converted.items()))
    lines = [f"converted: {kinds or 'nothing'}"]
    sections: list[tuple[str, list[Any]]] = [
        (
            f"kept as references only ({len(result.reference_only)}; Portico does not serve "
            "Group, User, Resource or Domain):",
            result.reference_only,
        ),
        ("not converted (no Portico equivalent):", result.unsupported),
        (
            "references to entities this import does not include (they resolve once those exist):",
            result.dangling,
        ),
        ("references to entities that could not be converted (below):", result.broken),
        (f"could not convert ({len(result.problems)}):", result.problems),
    ]
    for title, items in sections:
        if items:
            lines.append(title)
            lines += [f"  {item}" for item in items]
    return "\n".join(lines) + "\n"


def file_name(manifest: dict[str, Any]) -> str:
    """`<kind>.<namespace>.<name>.yaml`, the form of Portico's `portico.dev/entity` label."""
    meta = manifest["metadata"]
    kind = str(manifest["kind"]).lower()
    return f"{kind}.{meta.get('namespace', DEFAULT_NAMESPACE)}.{meta['name']}.yaml"
