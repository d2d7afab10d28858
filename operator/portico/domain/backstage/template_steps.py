"""Backstage's steps as the Portico Template's skeleton files and `spec.publish`.

`fetch:template` and `fetch:plain` steps become the skeleton. A Backstage skeleton is nunjucks
and sees `values`: the step's `values` input, made from `parameters`. A Portico skeleton is
Jinja, and sees the Component's values, which are the Template's parameters. So each
`values.k` becomes what the step made of it, inlined where it is used (`${{ parameters.name }}`
becomes `values.name`, a constant its literal): that reaches every file and path, where a
Jinja `set` reaches one file, and no Component can override it, as it could a schema default.
Each file is compiled, so a filter Jinja does not know is a problem naming the file and the
field. `publish:github` or `publish:git` becomes `spec.publish`; every other step, and every
input with no equivalent, is listed in `unsupported`.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import TemplateSyntaxError

from portico.domain.backstage.nunjucks import (
    VAR_START,
    Names,
    Untranslatable,
    convert_text,
    grouped,
    input_expression,
    literal,
    repo_url_part,
)
from portico.domain.backstage.source import Descriptor, DescriptorError, SkeletonReader
from portico.domain.backstage.template_parameters import Report, allowed_owners, parameter_names
from portico.rendering.skeleton import environment

_GITHUB_OWNER = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9]*$")
_WHOLE_PARAMETER = re.compile(r"\s*\$\{\{\s*parameters\.(\w+)\s*\}\}\s*")
_CARRIED = ("fetch:template", "fetch:plain", "publish:github", "publish:git")
_WHY = {
    "catalog:register": "Portico's Component is the catalog entry; nothing to do",
    "catalog:write": "Portico's Component is the catalog entry; no catalog file is needed",
    "debug:log": "nothing to do",
    "debug:wait": "nothing to do",
    "publish:github:pull-request": "Portico creates repositories, it opens no pull requests",
}


def glob_matcher(pattern: str) -> Callable[[str], bool]:
    """A skeleton path matcher for a fetch:template glob, as globby matches it there (dot files
    too; a pattern without wildcards naming a directory matches everything under it)."""
    p = pattern.strip().removeprefix("./").rstrip("/")
    if not re.search(r"[*?\[{]", p):
        return lambda path: path == p or path.startswith(p + "/")
    out, i = [], 0
    while i < len(p):
        close = p.find("}" if p[i] == "{" else "]", i) if p[i] in "{[" else -1
        if p.startswith("**/", i) or p.startswith("**", i):
            out.append("(?:.*/)?" if p.startswith("**/", i) else ".*")
            i += 2 if p.startswith("**/", i) else 1
        elif p[i] in "*?":
            out.append("[^/]*" if p[i] == "*" else "[^/]")
        elif close > i:
            body = p[i + 1 : close]
            alternatives = "|".join(re.escape(a) for a in body.split(","))
            out.append(f"(?:{alternatives})" if p[i] == "{" else f"[{re.sub('^!', '^', body)}]")
            i = close
        else:
            out.append(re.escape(p[i]))
        i += 1
    regex = re.compile("".join(out))
    return lambda path: regex.fullmatch(path) is not None


def _step_names(inputs: Mapping[str, Any], params: Names, at: str, problem: Report) -> Names:
    """What a skeleton's `values` (`cookiecutter`) are: the step's `values` input, translated.
    A value that cannot be translated is a problem only where a file uses it."""
    raw = inputs.get("values") or {}
    if not isinstance(raw, dict):
        problem(f"{at}.input.values", "must be a map of names to values")
        raw = {}
    mapping: dict[str, str] = {}
    broken: dict[str, str] = {}
    for key, value in raw.items():
        try:
            mapping[str(key)] = input_expression(value, params)
        except Untranslatable as e:
            broken[str(key)] = str(e)

    def lookup(key: str) -> str:
        if key in broken:
            raise Untranslatable(broken[key], f"{at}.input.values.{key}")
        return grouped(mapping.get(key, '""'))  # not passed by the step: "", as in Backstage

    written = {params.lookup(k): f for k, f in params.written.items()}
    written |= {"true": "lower", "false": "lower"}
    written |= {e: 'join(",")' for e in mapping.values() if e.startswith("[")}
    root = "cookiecutter" if inputs.get("cookiecutterCompat") is True else "values"
    # Portico's render also has `component` and `template`; Backstage's skeleton has neither,
    # and renders them empty, so a skeleton naming them is not converted silently.
    portico_only = {
        name: "not in Backstage's skeleton context (Backstage renders it empty)"
        for name in ("component", "template")
        if name != root
    }
    return Names(
        root, lookup, {k: written[e] for k, e in mapping.items() if e in written}, portico_only
    )


def fetch_files(
    label: str,
    at: str,
    inputs: Mapping[str, Any],
    skeleton: Mapping[str, bytes],
    params: Names,
    problem: Report,
    unsupported: list[str],
    *,
    plain: bool = False,
) -> list[tuple[str, str]]:
    """A fetch:template step's files (fetch:plain's, copied as they are, if `plain`) as
    (path, content) Jinja templates. `at` is the step's field, `params` the step's names."""
    names = _step_names(inputs, params, at, problem)
    var_start = "{{" if names.root == "cookiecutter" else VAR_START
    ext = inputs.get("templateFileExtension")
    ext = ".njk" if ext is True else ("." + ext.lstrip(".")) if isinstance(ext, str) else None
    keep_names = "copyWithoutRender" in inputs  # its paths are not rendered either
    patterns = inputs.get("copyWithoutRender", inputs.get("copyWithoutTemplating")) or []
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        which = "copyWithoutRender" if keep_names else "copyWithoutTemplating"
        problem(f"{at}.input.{which}", "must be a list of glob patterns")
        patterns = []
    verbatim = [glob_matcher(p) for p in patterns]
    for key in (k for k in ("trimBlocks", "lstripBlocks") if inputs.get(k)):
        unsupported.append(f"{label}: {key}: Portico keeps whitespace around tags (use {{%- -%}})")
    prefix = ""
    if isinstance(inputs.get("targetPath"), str):
        try:
            prefix = convert_text(inputs["targetPath"], params).strip().removeprefix("./")
        except Untranslatable as e:
            problem(f"{at}.input.targetPath", str(e))
        prefix = "" if prefix.strip("/") in ("", ".") else prefix.strip("/") + "/"
    env = environment()
    failed: dict[tuple[str, str], list[str]] = {}
    files = []
    for path, data in sorted(skeleton.items()):
        try:
            text = data.decode()
        except UnicodeDecodeError:
            text = "\x00"
        if "\x00" in text:
            unsupported.append(f"{label}: {path}: a binary file; Portico's skeleton is text")
            continue
        templated = not plain and not any(match(path) for match in verbatim)
        named, source = not plain and (templated or not keep_names), path
        if ext is not None:
            templated = named = path.endswith(ext)
            source, named = path.removesuffix(ext), True
        what = "path"
        try:
            jpath = convert_text(source, names, var_start) if named else literal(source)
            content = convert_text(text, names, var_start) if templated else literal(text)
            env.from_string(jpath)  # compiling finds a filter or test Jinja lacks
            what = "content"
            env.from_string(content)
        except Untranslatable as e:
            failed.setdefault((e.field or f"{at}.input.url", str(e)), []).append(path)
            continue
        except TemplateSyntaxError as e:
            problem(f"{at}.input.url", f"{path} {what} line {e.lineno}: {e.message}")
            continue
        if "{%" in jpath and named:
            why = "Backstage skips a file whose path renders empty, Portico refuses it"
            unsupported.append(f"{label}: {path}: {why}")
        files.append((prefix + jpath, content))
    for (where, why), paths in failed.items():
        problem(where, f"{why} (in {', '.join(paths)})")
    return files


def convert_steps(
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
        owners = allowed_owners(schema, whole[1])
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
    if not isinstance(owner, str) or not _GITHUB_OWNER.fullmatch(owner) or not repo:
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
    topics = inputs.get("topics")
    topics = topics if isinstance(topics, list) else []
    github["topics"] = [t for t in topics if isinstance(t, str) and "${{" not in t]
    if github["topics"] != topics:
        unsupported.append(f"{label}: topics that are expressions are dropped; Portico's are fixed")
    github["branchProtection"] = inputs.get("protectDefaultBranch", True) is not False
    ignored = sorted(set(inputs) - {"repoUrl", "repoVisibility", "topics", "protectDefaultBranch"})
    if ignored:
        unsupported.append(f"{label}: input {', '.join(ignored)}: no Portico equivalent")
    return {"github": {k: v for k, v in github.items() if v != []}}
