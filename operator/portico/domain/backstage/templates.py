"""Backstage scaffolder Templates (`scaffolder.backstage.io/v1beta3`) as Portico Templates,
best effort.

A Backstage Template is a form (`parameters`) and steps run in order. A Portico Template is
declarative: one JSON Schema, one skeleton, one place to publish. So the form's pages become
one schema (template_parameters), the `fetch:template` and `fetch:plain` steps become the
skeleton and `publish:github` or `publish:git` becomes `spec.publish` (template_steps, with
nunjucks translating their expressions to Jinja). Every other step, and every input with no
equivalent, is listed in `unsupported`; nothing is dropped silently. Whatever would make the
Template wrong (an expression that cannot be translated, a skeleton behind a URL) is a Problem
naming the file, the entity and the field. The Template comes back only if its spec validates;
it may come back with problems (a file left out), and the caller decides.

A large skeleton goes to ConfigMaps (one per directory, more if one would pass CONFIGMAP_MAX):
the API server refuses an object over about 1.5 MB, so one Template cannot hold it all.
"""

import hashlib
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from portico.domain.backstage.context import ImportContext
from portico.domain.backstage.metadata import convert_metadata
from portico.domain.backstage.source import Descriptor, Problem, SkeletonReader
from portico.domain.backstage.template_parameters import Report, merge_parameters
from portico.domain.backstage.template_steps import convert_steps
from portico.domain.refs import InvalidRef
from portico.models.template import TemplateSpec

API_VERSION = "portico.dev/v1alpha1"
INLINE_MAX = 256 * 1024  # a larger skeleton goes to ConfigMaps
CONFIGMAP_MAX = 900 * 1024  # the API server takes 1 MiB per object, metadata included
TEMPLATE_LABEL = "portico.dev/template"  # on each ConfigMap: the Template it belongs to

_CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")


@dataclass
class TemplateConversion:
    """The Portico Template first, then the ConfigMaps its skeleton needs (same namespace);
    `unsupported`: what has no Portico equivalent, one line each; `problems`: what failed."""

    manifests: list[dict[str, Any]] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def convert_template(
    desc: Descriptor, ctx: ImportContext, read_skeleton: SkeletonReader, index: int = 0
) -> TemplateConversion:
    meta = convert_metadata(desc, ctx, index)
    out = TemplateConversion(problems=list(meta.problems))
    raw = desc.entity.get("spec")

    def problem(where: str, message: str) -> None:
        out.problems.append(Problem(desc.source, meta.ref, where, message))

    if not meta.name:
        return out
    if not isinstance(raw, dict):
        problem("spec", "required: an object with owner, parameters and steps")
        return out
    kube_ns = str(meta.metadata["namespace"])
    spec: dict[str, Any] = {
        "owner": _owner(raw.get("owner"), ctx, meta.namespace, kube_ns, problem)
    }
    spec |= meta.spec
    if isinstance(raw.get("type"), str) and raw["type"].strip():
        spec["type"] = raw["type"]
    spec["parameters"] = merge_parameters(raw.get("parameters"), problem, out.unsupported)
    files, spec["publish"] = convert_steps(
        raw.get("steps"), spec["parameters"] or {}, desc, read_skeleton, problem, out.unsupported
    )
    name = str(meta.metadata["name"])
    spec["skeleton"], config_maps = pack_skeleton(name, kube_ns, files, problem)
    if not spec["publish"]:
        out.unsupported.append(
            "no publish step Portico can carry: spec.publish is unset, so "
            "scaffolding from this Template fails (NoPublisher) until it is set"
        )
    out.unsupported += [
        f"spec.{key}: no Portico equivalent" for key in ("output", "presentation") if key in raw
    ]
    spec = {k: v for k, v in spec.items() if v}
    try:
        TemplateSpec.model_validate(spec)
    except ValidationError as e:
        reported = {p.field for p in out.problems}
        for error in e.errors():
            where = "spec" + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]
            )
            if where not in reported:
                problem(where, f"{error['msg']} (in the converted Template)")
        return out
    template = {"apiVersion": API_VERSION, "kind": "Template", "metadata": meta.metadata}
    out.manifests = [template | {"spec": spec}, *config_maps]
    return out


def _owner(raw: Any, ctx: ImportContext, namespace: str, kube_ns: str, problem: Report) -> str:
    """A group: or user: reference; an owner without a kind is a group, as in Backstage."""
    if not isinstance(raw, str) or not raw.strip():
        problem("spec.owner", "required: Portico Templates have an owner (a group or user)")
        return ""
    try:
        key = ctx.ref(raw, default_kind="group", referrer_namespace=namespace)
    except InvalidRef as e:
        problem("spec.owner", str(e))
        return ""
    if key.kind not in ("group", "user"):
        problem("spec.owner", f"{raw!r} is a {key.kind}; an owner is a group or a user")
        return ""
    return ctx.ref_string(key, default_kind=None, namespace=kube_ns)


def pack_skeleton(
    template: str, namespace: str, files: list[tuple[str, str]], problem: Report
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """spec.skeleton and the ConfigMaps it lists. All inline if small; otherwise each file
    whose name can be a ConfigMap key (a templated name cannot) goes to a ConfigMap of its
    directory, named after the Template and a digest of the directory."""

    def size(path: str, content: str) -> int:
        return len(path.encode()) + len(content.encode())

    large = sum(size(p, c) for p, c in files) > INLINE_MAX
    inline: list[dict[str, str]] = []
    groups: dict[str, list[dict[str, str]]] = {}
    for path, content in files:
        directory, base = posixpath.split(path)
        if large and _CONFIGMAP_KEY.fullmatch(base) and size(base, content) <= CONFIGMAP_MAX:
            chunks = groups.setdefault(directory, [{}])
            if sum(size(k, v) for k, v in chunks[-1].items()) + size(base, content) > CONFIGMAP_MAX:
                chunks.append({})
            chunks[-1][base] = content
        else:
            inline.append({"path": path, "content": content})
    refs: list[dict[str, str]] = []
    config_maps: list[dict[str, Any]] = []
    for directory, chunks in sorted(groups.items()):
        digest = hashlib.sha256(directory.encode()).hexdigest()[:8]
        for n, data in enumerate(chunks):
            name = f"{template}-skeleton-{digest}" + (f"-{n + 1}" if n else "")
            refs.append({"name": name, "path": directory} if directory else {"name": name})
            metadata = {"name": name, "namespace": namespace, "labels": {TEMPLATE_LABEL: template}}
            config_maps.append(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}
            )
    inline_size = sum(size(f["path"], f["content"]) for f in inline)
    if inline_size > CONFIGMAP_MAX:
        problem(
            "spec.skeleton",
            f"{inline_size} bytes of files must stay in the Template (their "
            "names are templated, or a file is too large), more than an object holds",
        )
    skeleton = {"files": inline, "configMaps": refs}
    return {k: v for k, v in skeleton.items() if v}, config_maps
