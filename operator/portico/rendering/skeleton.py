"""Render a Template's skeleton in Jinja's sandbox: paths and contents both are templates.

Safety rules, each with an error that names the file:
- SandboxedEnvironment: no attribute access to internals (`''.__class__` fails), no I/O.
- StrictUndefined: a misspelt value is an error, not an empty string.
- A rendered path must be relative, must not contain `..`, `.git` or empty segments, and
  must stay inside the repository after normalisation.
- At most `max_files` files and `max_bytes` bytes in total.
- The obvious amplifiers are bounded before they allocate: `*` and `+` on strings and lists,
  `**` on integers, `%`/`format`/`str.format` widths and the padding methods may not make
  anything larger than `max_bytes` (RenderTooLarge). Jinja's own `range` cap (MAX_RANGE) stays.
  This is a cheap first line only; tenant templates are rendered in a separate process with
  CPU, memory and output limits (portico.renderjobs, portico.clients.sandbox).

Errors: RenderError (reason RenderFailed) for a template that cannot render; its subclasses
RenderTooLarge and RenderTimeout for a resource limit. Each has `where`, `message`, `reason`.

Filters beyond Jinja's built-ins: slug, snake_case, kebab_case, pascal_case, to_json,
to_yaml, b64encode.
"""

import base64
import json
import posixpath
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.filters import do_format
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

Progress = Callable[[str], None]


class RenderError(ValueError):
    """A skeleton could not be rendered; `where` names the file (and line if known)."""

    reason = "RenderFailed"

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")


class RenderTooLarge(RenderError):
    """A render would exceed a size or memory limit and was stopped."""

    reason = "RenderTooLarge"


class RenderTimeout(RenderError):
    """A render took longer than its time limit and was stopped."""

    reason = "RenderTimeout"


class _TooLarge(SecurityError):
    """Raised inside a template by BoundedEnvironment; _render names the file."""


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


_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?")
_PADDERS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})
_SEQUENCES = (str, list, tuple)


class BoundedEnvironment(SandboxedEnvironment):
    """The sandbox, plus cheap checks that refuse to build anything over `max_bytes`."""

    intercepted_binops = frozenset({"*", "+", "**", "%"})

    def __init__(self, max_bytes: int, **options: Any) -> None:
        super().__init__(**options)
        self.max_bytes = max_bytes
        self.filters["format"] = self._format
        self.filters["center"] = lambda value, width=80: self._pad(str(value).center, width)

    def _check(self, size: int, what: str) -> None:
        if size > self.max_bytes:
            raise _TooLarge(
                f"{what} would build a value of size {size}, over the limit of {self.max_bytes}"
            )

    def _check_percent(self, fmt: str) -> None:
        for m in _PERCENT.finditer(fmt):
            for number in m.groups():
                if number == "*":
                    raise _TooLarge("'*' widths in % formats are not allowed")
                if number:
                    self._check(int(number), "a % format width")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, _SEQUENCES) and isinstance(n, int):
                    self._check(len(seq) * n, "'*'")
        elif operator == "+" and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            self._check(len(left) + len(right), "'+'")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int):
            if abs(left) > 1 and right > 0:
                self._check(left.bit_length() * right // 8, "'**'")
        elif operator == "%" and isinstance(left, str):
            self._check_percent(left)
        return super().call_binop(context, operator, left, right)

    def _format(self, value: Any, *args: Any, **kwargs: Any) -> str:
        self._check_percent(str(value))
        return do_format(value, *args, **kwargs)

    def _pad(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        for width in (*args, *kwargs.values()):
            if isinstance(width, int):
                self._check(width, f"{method.__name__}()")
        return method(*args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:  # value is str.format or str.format_map of a str
            for _, _, spec, _ in string.Formatter().parse(value.__self__):
                if spec and "{" in spec:
                    raise _TooLarge("nested fields in format specs are not allowed")
                for number in re.findall(r"\d+", spec or ""):
                    self._check(int(number), "a format width")
        return wrapped

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(__obj, "__name__", None) in _PADDERS and isinstance(
            getattr(__obj, "__self__", None), str
        ):
            return __self._pad(__obj, *args, **kwargs)
        return super().call(__context, __obj, *args, **kwargs)


def environment(max_bytes: int = Limits.max_bytes) -> SandboxedEnvironment:
    env = BoundedEnvironment(
        max_bytes, undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
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
    except _TooLarge as e:
        raise RenderTooLarge(where, str(e)) from e
    except SecurityError as e:
        raise RenderError(where, f"blocked by the sandbox: {e}") from e
    except TemplateError as e:
        raise RenderError(where, str(e)) from e
    except MemoryError:
        raise  # the render process reports it as RenderTooLarge, naming the last file
    except Exception as e:  # a filter's own failure (e.g. to_json of an odd value)
        raise RenderError(where, f"{type(e).__name__}: {e}") from e


def render_skeleton(
    files: list[tuple[str, str]],
    context: Mapping[str, Any],
    limits: Limits = Limits(),
    *,
    progress: Progress | None = None,
) -> dict[str, str]:
    """(path template, content template) pairs -> {path: content}. `progress` is told where
    rendering is ("skeleton.files[3] (path) content") before each template is rendered."""
    if len(files) > limits.max_files:
        raise RenderError("skeleton", f"{len(files)} files exceed the limit of {limits.max_files}")
    env = environment(limits.max_bytes)
    out: dict[str, str] = {}
    total = 0
    for i, (path_template, content_template) in enumerate(files):
        label = f"skeleton.files[{i}] ({path_template})"
        if progress:
            progress(f"{label} path")
        path = safe_path(_render(env, path_template, context, f"{label} path"), label)
        if path in out:
            raise RenderError(label, f"path {path!r} is rendered twice")
        if progress:
            progress(f"{label} content")
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
