"""Backstage scaffolder Templates (`scaffolder.backstage.io/v1beta3`) as Portico Templates,
best effort.

A Backstage Template is a form (`parameters`) and steps run in order. A Portico Template is
declarative: one JSON Schema, one skeleton, one place to publish. So the form's pages become
one schema, the `fetch:template` and `fetch:plain` steps become the skeleton (template_steps
translates their nunjucks to Jinja), and `publish:github` or `publish:git` becomes
`spec.publish`. Every other step, and every input with no equivalent, is listed in
`unsupported`; nothing is dropped silently. Whatever would make the Template wrong (an
expression that cannot be translated, a skeleton behind a URL) is a Problem naming the file,
the entity and the field. The Template comes back only if its spec validates; it may come back
with problems (a file left out), and the caller decides.

A large skeleton goes to ConfigMaps (one per directory, more if one would pass CONFIGMAP_MAX):
the API server refuses an object over about 1.5 MB, so one Template cannot hold it all.
"""

import hashlib
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import ValidationError

from portico.domain.backstage.context import ImportContext
from portico.domain.backstage.metadata import convert_metadata
from portico.domain.backstage.source import Descriptor, DescriptorError, Problem, SkeletonReader
from portico.domain.backstage.template_steps import (
    STEP_ONLY,
    Names,
    Report,
    Untranslatable,
    convert_text,
    fetch_files,
    repo_url_part,
)
from portico.domain.refs import InvalidRef
from portico.models.template import TemplateSpec

API_VERSION = "portico.dev/v1alpha1"
INLINE_MAX = 256 * 1024  # a larger skeleton goes to ConfigMaps
CONFIGMAP_MAX = 900 * 1024  # the API server takes 1 MiB per object, metadata included
TEMPLATE_LABEL = "portico.dev/template"  # on each ConfigMap: the Template it belongs to

_CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_GITHUB_OWNER = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9]*$")
_WHOLE_PARAMETER = re.compile(r"\s*\$\{\{\s*parameters\.(\w+)\s*\}\}\s*")
# A page's rules about the page as a whole; the merged schema keeps each in its allOf.
_PAGE_RULES = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependencies")
# Where draft-07 (Backstage's forms) keeps subschemas: maps of them, one, lists of them.
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs")
_SCHEMA_ONE = ("additionalProperties", "items", "contains", "not", "if", "then", "else")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_CARRIED = ("fetch:template", "fetch:plain", "publish:github", "publish:git")
_WHY = {
    "catalog:register": "Portico's Component is the catalog entry; nothing to do",
    "catalog:write": "Portico's Component is the catalog entry; no catalog file is needed",
    "debug:log": "nothing to do",
    "debug:wait": "nothing to do",
    "publish:github:pull-request": "Portico creates repositories, it opens no pull requests",
}


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
    files, spec["publish"] = _steps(
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


def _as(value: Any, kind: type, default: Any) -> Any:
    return value if isinstance(value, kind) else default


def _prop(schema: Mapping[str, Any], name: str) -> dict[str, Any]:
    return dict(_as(_as(schema.get("properties"), dict, {}).get(name), dict, {}))


def _steps(
    raw: Any,
    schema: Mapping[str, Any],
    desc: Descriptor,
    read_skeleton: SkeletonReader,
    problem: Report,
    unsupported: list[str],
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The skeleton's (path, content) templates, and spec.publish."""
    if not isinstance(raw, list):
        problem("spec.steps", "must be a list of steps")
        return [], {}
    params = parameter_names(schema)
    files: list[tuple[str, str]] = []
    publish: dict[str, Any] = {}
    for i, step in enumerate(raw):
        at = f"spec.steps[{i}]"
        action = step.get("action") if isinstance(step, dict) else None
        inputs = (step.get("input") or {}) if isinstance(step, dict) else None
        if not isinstance(action, str) or not isinstance(inputs, dict):
            problem(at, "a step needs an action, and its input must be a map")
            continue
        label = f"step '{step.get('id') or step.get('name') or i}' ({action})"
        unsupported += [
            f"{label}: `{key}: {step[key]}` is not kept; in Portico the step always applies"
            for key in ("if", "each")
            if key in step and action in _CARRIED
        ]
        if action in ("fetch:template", "fetch:plain"):
            url = inputs.get("url")
            try:
                if not isinstance(url, str) or "${{" in url:
                    raise DescriptorError("required: the skeleton directory's relative path")
                tree = read_skeleton(url, desc.source)
            except DescriptorError as e:
                problem(f"{at}.input.url", f"the skeleton cannot be read: {e}")
                continue
            plain = action == "fetch:plain"
            files += fetch_files(label, at, inputs, tree, params, problem, unsupported, plain=plain)
        elif action in ("publish:github", "publish:git") and publish:
            unsupported.append(f"{label}: a Portico Template publishes once; the first is kept")
        elif action == "publish:github":
            publish = _github(label, f"{at}.input", inputs, schema, params, problem, unsupported)
        elif action == "publish:git":
            url = next((inputs[k] for k in ("remoteUrl", "repoUrl", "url") if k in inputs), "")
            if not isinstance(url, str) or "://" not in url:
                problem(f"{at}.input.remoteUrl", "required: the git URL to push to")
            elif jinja := _jinja(url, params, f"{at}.input.remoteUrl", problem):
                publish = {"git": {"url": jinja}}
        else:
            default = "Portico publishes to GitHub or a git URL only"
            why = _WHY.get(
                action,
                default
                if action.startswith("publish:")
                else "no Portico equivalent; it is not run",
            )
            unsupported.append(f"{label}: {why}")
    paths = [p for p, _ in files]
    for path in sorted({p for p in paths if paths.count(p) > 1}):
        problem("spec.steps", f"{path}: two fetch steps write this file; Portico renders it once")
    return files, publish


def _jinja(text: str, params: Names, where: str, problem: Report) -> str:
    try:
        return convert_text(text, params)
    except Untranslatable as e:
        problem(where, str(e))
        return ""


def _github(
    label: str,
    at: str,
    inputs: Mapping[str, Any],
    schema: Mapping[str, Any],
    params: Names,
    problem: Report,
    unsupported: list[str],
) -> dict[str, Any]:
    """publish:github as spec.publish.github: one fixed owner, the repository name in Jinja."""
    repo_url = inputs.get("repoUrl")
    whole = _WHOLE_PARAMETER.fullmatch(repo_url) if isinstance(repo_url, str) else None
    if whole:  # a RepoUrlPicker: the owner is fixed if the picker allows one only
        owners = _as(
            _as(_prop(schema, whole[1]).get("ui:options"), dict, {}).get("allowedOwners"), list, []
        )
        owner: Any = owners[0] if len(owners) == 1 else f"chosen in the form ({whole[1]})"
        repo = "{{ " + repo_url_part(params.lookup(whole[1]), "repo") + " }}"
    elif isinstance(repo_url, str):
        host, _, query = repo_url.partition("?")
        parts = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        owner, repo = (
            parts.get("owner"),
            _jinja(parts.get("repo", ""), params, f"{at}.repoUrl", problem),
        )
        if host.strip() != "github.com":
            unsupported.append(f"{label}: host {host}: Portico publishes to its own GitHub")
    else:
        owner = repo = None
    if not isinstance(owner, str) or not _GITHUB_OWNER.match(owner) or not repo:
        problem(
            f"{at}.repoUrl",
            f"owner {owner!r}: Portico publishes to one fixed GitHub owner; "
            "write github.com?owner=<owner>&repo=..., or allow one owner in the picker's "
            "ui:options.allowedOwners",
        )
        return {}
    github: dict[str, Any] = {"owner": owner, "repoName": repo}
    visibility = inputs.get("repoVisibility", "private")
    github["visibility"] = visibility if visibility in ("public", "internal") else "private"
    if github["visibility"] != visibility:
        unsupported.append(f"{label}: repoVisibility {visibility!r}: the repository is private")
    topics = _as(inputs.get("topics"), list, [])
    github["topics"] = [t for t in topics if isinstance(t, str) and "${{" not in t]
    if github["topics"] != topics:
        unsupported.append(f"{label}: topics that are expressions are dropped; Portico's are fixed")
    github["branchProtection"] = inputs.get("protectDefaultBranch", True) is not False
    ignored = sorted(set(inputs) - {"repoUrl", "repoVisibility", "topics", "protectDefaultBranch"})
    if ignored:
        unsupported.append(f"{label}: input {', '.join(ignored)}: no Portico equivalent")
    return {"github": {k: v for k, v in github.items() if v != []}}


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
        if large and _CONFIGMAP_KEY.match(base) and size(base, content) <= CONFIGMAP_MAX:
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
