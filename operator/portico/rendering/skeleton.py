"""Render a Template's skeleton in Jinja's sandbox: paths and contents both are templates.

Safety rules, each with an error that names the file:
- SandboxedEnvironment: no attribute access to internals (`''.__class__` fails), no I/O.
- StrictUndefined: a misspelt value is an error, not an empty string.
- A rendered path must be relative, must not contain `..`, `.git` or empty segments, and
  must stay inside the repository after normalisation.
- At most `max_files` files and `max_bytes` bytes in total.

Filters beyond Jinja's built-ins: slug, snake_case, kebab_case, pascal_case, to_json,
to_yaml, b64encode.
"""

import base64
import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment


class RenderError(ValueError):
    """A skeleton could not be rendered; `where` names the file (and line if known)."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Limits:
    max_files: int = 500
    max_bytes: int = 5 * 1024 * 1024


def _words(text: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(text))
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


FILTERS: dict[str, Any] = {
    "slug": lambda s: "-".join(w.lower() for w in _words(s)),
    "kebab_case": lambda s: "-".join(w.lower() for w in _words(s)),
    "snake_case": lambda s: "_".join(w.lower() for w in _words(s)),
    "pascal_case": lambda s: "".join(w[:1].upper() + w[1:].lower() for w in _words(s)),
    "to_json": lambda v: json.dumps(v, sort_keys=True),
    "to_yaml": lambda v: yaml.safe_dump(v, sort_keys=False).rstrip("\n"),
    "b64encode": lambda s: base64.b64encode(str(s).encode()).decode(),
}


def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    env.filters.update(FILTERS)
    return env


def safe_path(rendered: str, where: str) -> str:
    """The normalised repository path, or RenderError if it could escape or is unusable."""
    path = rendered.strip()
    if not path:
        raise RenderError(where, "the path renders to nothing")
    if "\\" in path or "\x00" in path:
        raise RenderError(where, f"path {path!r} contains a backslash or NUL")
    if path.startswith("/"):
        raise RenderError(where, f"path {path!r} is absolute; paths are relative to the repository")
    parts = path.split("/")
    if ".." in parts:
        raise RenderError(where, f"path {path!r} contains '..' and could escape the repository")
    if any(p == "" for p in parts[:-1]) or parts[-1] == "":
        raise RenderError(where, f"path {path!r} has an empty segment")
    if ".git" in parts:
        raise RenderError(where, f"path {path!r} writes into .git")
    normal = posixpath.normpath(path)
    if normal.startswith("../") or normal == ".." or normal == ".":
        raise RenderError(where, f"path {path!r} escapes the repository")
    return normal


def _render(env: SandboxedEnvironment, source: str, context: Mapping[str, Any], where: str) -> str:
    try:
        return env.from_string(source).render(context)
    except TemplateSyntaxError as e:
        raise RenderError(f"{where} line {e.lineno}", f"syntax error: {e.message}") from e
    except SecurityError as e:
        raise RenderError(where, f"blocked by the sandbox: {e}") from e
    except TemplateError as e:
        raise RenderError(where, str(e)) from e
    except Exception as e:  # a filter's own failure (e.g. to_json of an odd value)
        raise RenderError(where, f"{type(e).__name__}: {e}") from e


def render_skeleton(
    files: list[tuple[str, str]], context: Mapping[str, Any], limits: Limits = Limits()
) -> dict[str, str]:
    """(path template, content template) pairs -> {path: content}."""
    if len(files) > limits.max_files:
        raise RenderError("skeleton", f"{len(files)} files exceed the limit of {limits.max_files}")
    env = environment()
    out: dict[str, str] = {}
    total = 0
    for i, (path_template, content_template) in enumerate(files):
        label = f"skeleton.files[{i}] ({path_template})"
        path = safe_path(_render(env, path_template, context, f"{label} path"), label)
        if path in out:
            raise RenderError(label, f"path {path!r} is rendered twice")
        content = _render(env, content_template, context, f"{label} content")
        total += len(content.encode())
        if total > limits.max_bytes:
            raise RenderError(label, f"the skeleton exceeds {limits.max_bytes} bytes")
        out[path] = content
    return out


def check_syntax(files: list[tuple[str, str]]) -> list[str]:
    """Syntax errors of every path and content template, without rendering."""
    env = environment()
    problems = []
    for i, (path, content) in enumerate(files):
        for what, source in (("path", path), ("content", content)):
            try:
                env.parse(source)
            except TemplateSyntaxError as e:
                where = f"skeleton.files[{i}] ({path}) {what} line {e.lineno}"
                problems.append(f"{where}: syntax error: {e.message}")
    return problems


def render_string(source: str, context: Mapping[str, Any], where: str) -> str:
    return _render(environment(), source, context, where)
