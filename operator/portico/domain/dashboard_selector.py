"""Backstage's `grafana/dashboard-selector` annotation: which Grafana dashboards a Component
lists, in the query language of Backstage's Grafana plugin (K-Phoen/backstage-plugin-grafana:
`src/api.ts`, `src/query/QueryEvaluator.ts`, `docs/dashboards-on-component-page.md`).

What the plugin does, and so Portico:

- A selector that is one word of ASCII letters, digits, `_` and `-` (`my-service`) is a tag:
  the dashboards tagged `my-service` (the plugin tests `^[\\w-]+$` before parsing, so `true`
  and `42` are tags too).
- Anything else is an expression over each dashboard of Grafana's search
  (`GET /api/search?type=dash-db`); a dashboard is selected when it evaluates to exactly
  `true`. The plugin parses it with jsep, `@>` added at the precedence of `==`:

  - variables: `title`, `tags` (a list), `url`, `folderTitle`, `folderUrl` (the plugin's
    documented ones) and `uid`, `folderUid` (the plugin evaluates against the whole search
    hit, so these work there too). `url` and `folderUrl` are absolute: the plugin prefixes
    its `grafana.domain`, Portico `grafana.url`. A dashboard at Grafana's root has no folder:
    `folderTitle`, `folderUrl` and `folderUid` are `null` there;
  - literals: strings in `'...'` or `"..."` (backslash escapes as in JavaScript), `true`,
    `false`, `null`;
  - `tags @> 'x'` (the list contains `'x'`), `==` and `!=` (JavaScript's `===` and `!==`),
    `!`, `&&` and `||` (JavaScript's: each gives one of its operands), parentheses;
  - precedence, loosest first: `||`; `&&`; `==` `!=` `@>` (left to right); `!`, which takes
    only what follows it (`!tags @> 'a'` is `(!tags) @> 'a'`: write `!(tags @> 'a')`).

Stricter than the plugin, on purpose: what the plugin only fails on while evaluating (an
unknown variable, `@>` on anything but `tags`, what jsep parses but the plugin cannot
evaluate: `===`, `<`, `+`, `a.b`, `f(x)`, `a ? b : c`, ...) and numbers (which equal no
dashboard field) are refused when parsing, with the position, so the Component says so.

The selector is tenant input: at most `MAX_LENGTH` characters, `MAX_TOKENS` tokens and
`MAX_DEPTH` levels of parentheses and `!`. Parsing is one pass; evaluation visits each node at
most once per dashboard; no regular expression sees the text.
"""

import contextlib
import functools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

SELECTOR_ANNOTATION = "grafana/dashboard-selector"
# The plugin's deprecated name, read when the new one is absent (types.ts).
TAG_SELECTOR_ANNOTATION = "grafana/tag-selector"

MAX_LENGTH = 1024
MAX_TOKENS = 128
MAX_DEPTH = 16
URL_MAX = 2048  # status.links[].url's maxLength in the CRD

Value = str | bool | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Dashboard:
    """One dashboard of Grafana's search, as the selector sees it (URLs absolute)."""

    uid: str
    title: str
    url: str
    tags: tuple[str, ...] = ()
    folder_uid: str | None = None
    folder_title: str | None = None
    folder_url: str | None = None


VARIABLES: dict[str, Callable[[Dashboard], Value]] = {
    "title": operator.attrgetter("title"),
    "tags": operator.attrgetter("tags"),
    "url": operator.attrgetter("url"),
    "folderTitle": operator.attrgetter("folder_title"),
    "folderUrl": operator.attrgetter("folder_url"),
    "uid": operator.attrgetter("uid"),
    "folderUid": operator.attrgetter("folder_uid"),
}
_LITERALS: dict[str, Value] = {"true": True, "false": False, "null": None}
_OPERATORS = ("&&", "||", "==", "!=", "@>")  # binary, with `!`, `(` and `)` all there are
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v"}
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
_NAME = _NAME_START | frozenset("0123456789")
_REFUSED = {  # what jsep parses but the plugin does not evaluate, with a hint
    "===": "=== is not supported; use ==",
    "!==": "!== is not supported; use !=",
}


class SelectorError(ValueError):
    """A selector that cannot be used; the message says what and where (1-based)."""


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "op", "name", "string", "end"
    text: str
    at: int  # 0-based offset


def _error(message: str, at: int) -> SelectorError:
    return SelectorError(f"{message} at character {at + 1}")


def _string(text: str, start: int) -> tuple[str, int]:
    """The string literal opening at `start`, and the offset after it."""
    quote, i = text[start], start + 1
    out: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\\" and i + 1 < len(text):
            i += 1
            out.append(_ESCAPES.get(text[i], text[i]))
        else:
            out.append(ch)
        i += 1
    raise _error(f"unclosed quote {quote}", start)


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
            continue
        if len(out) >= MAX_TOKENS:
            raise _error(f"more than {MAX_TOKENS} tokens", i)
        three, two = text[i : i + 3], text[i : i + 2]
        if three in _REFUSED:
            raise _error(_REFUSED[three], i)
        if two in _OPERATORS:
            out.append(_Token("op", two, i))
            i += 2
        elif ch in "!()":
            out.append(_Token("op", ch, i))
            i += 1
        elif ch in "'\"":
            value, end = _string(text, i)
            out.append(_Token("string", value, i))
            i = end
        elif ch in _NAME_START:
            end = i + 1
            while end < len(text) and text[end] in _NAME:
                end += 1
            out.append(_Token("name", text[i:end], i))
            i = end
        elif ch.isdigit() or (ch == "." and text[i + 1 : i + 2].isdigit()):
            raise _error("numbers are not supported (no dashboard field is a number)", i)
        else:
            raise _error(f"unexpected {ch!r}; the operators are @> == != ! && || ( )", i)
    out.append(_Token("end", "", len(text)))
    return out


# Compiled form: a function of the dashboard per node, built once per selector.
Eval = Callable[[Dashboard], Value]


def _truthy(value: Value) -> bool:
    """JavaScript's truthiness for these values: a list is truthy even when empty."""
    return isinstance(value, tuple) or bool(value)


def _same(a: Value, b: Value) -> bool:
    """JavaScript's `===`: same type and value; a list only equals itself."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        return a is b
    return type(a) is type(b) and a == b


def _binary(op: str, left: Eval, right: Eval) -> Eval:
    def both(d: Dashboard) -> Value:
        value = left(d)
        return right(d) if _truthy(value) else value

    def either(d: Dashboard) -> Value:
        value = left(d)
        return value if _truthy(value) else right(d)

    def contains(d: Dashboard) -> Value:  # the parser allows only `tags` on the left
        tags = left(d)
        return isinstance(tags, tuple) and right(d) in tags

    def equal(d: Dashboard) -> Value:
        return _same(left(d), right(d))

    def unequal(d: Dashboard) -> Value:
        return not _same(left(d), right(d))

    return {"&&": both, "||": either, "@>": contains, "==": equal, "!=": unequal}[op]


_TAGS = VARIABLES["tags"]


class _Parser:
    """Recursive descent over the tokens; each level is one row of the precedence table."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Eval:
        if self.peek().kind == "end":
            raise _error("empty expression", 0)
        root = self.disjunction()
        token = self.peek()
        if token.kind != "end":
            raise _error(f"unexpected {_shown(token)}; join conditions with && or ||", token.at)
        return root

    def disjunction(self) -> Eval:
        left = self.conjunction()
        while self.peek().text == "||" and self.peek().kind == "op":
            self.take()
            left = _binary("||", left, self.conjunction())
        return left

    def conjunction(self) -> Eval:
        left = self.comparison()
        while self.peek().text == "&&" and self.peek().kind == "op":
            self.take()
            left = _binary("&&", left, self.comparison())
        return left

    def comparison(self) -> Eval:
        left = self.unary()
        while self.peek().kind == "op" and self.peek().text in ("==", "!=", "@>"):
            op = self.take()
            if op.text == "@>" and left is not _TAGS:  # `tags` or `(tags)`, nothing else
                raise _error("the left side of @> must be tags (the only list)", op.at)
            left = _binary(op.text, left, self.unary())
        return left

    def unary(self) -> Eval:
        token = self.peek()
        if token.kind == "op" and token.text == "!":
            self.take()
            with self.nested(token):
                argument = self.unary()
            return lambda d: not _truthy(argument(d))
        return self.primary()

    def primary(self) -> Eval:
        token = self.take()
        if token.kind == "op" and token.text == "(":
            with self.nested(token):
                inner = self.disjunction()
            closing = self.take()
            if closing.kind != "op" or closing.text != ")":
                raise _error(f"expected ) but found {_shown(closing)}", closing.at)
            return inner
        if token.kind == "string":
            value: Value = token.text
            return lambda _: value
        if token.kind == "name":
            if token.text in _LITERALS:
                literal = _LITERALS[token.text]
                return lambda _: literal
            getter = VARIABLES.get(token.text)
            if getter is None:
                known = ", ".join(VARIABLES)
                raise _error(f"unknown variable {token.text!r} (known: {known})", token.at)
            return getter
        raise _error(f"expected a variable, a string or ( but found {_shown(token)}", token.at)

    @contextlib.contextmanager
    def nested(self, token: _Token) -> Iterator[None]:
        """One more level of ( or !, refused past MAX_DEPTH (this bounds the recursion)."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _error(f"nested more than {MAX_DEPTH} deep", token.at)
            yield
        finally:
            self.depth -= 1


def _shown(token: _Token) -> str:
    if token.kind == "end":
        return "the end"
    if token.kind == "string":
        return "a string"
    return repr(token.text)


@dataclass(frozen=True)
class Selector:
    """A parsed selector: `matches(dashboard)` is the plugin's `evaluate(...) === true`."""

    text: str
    _evaluate: Eval

    def matches(self, dashboard: Dashboard) -> bool:
        return self._evaluate(dashboard) is True


def parse_selector(text: str) -> Selector:
    """The selector `text` means, or SelectorError saying why it has none."""
    if len(text) > MAX_LENGTH:
        raise SelectorError(f"longer than {MAX_LENGTH} characters ({len(text)})")
    word = text.strip()
    if word and all(ch in _WORD for ch in word):
        return Selector(text, lambda d: word in d.tags)
    return Selector(text, _Parser(text).parse())


@functools.lru_cache(maxsize=2048)
def _compiled(text: str) -> Selector | SelectorError:
    try:
        return parse_selector(text)
    except SelectorError as e:
        return e


def compile_selector(text: str) -> Selector | SelectorError:
    """`parse_selector`, remembered by text (every reconcile and every search asks again);
    over-long texts are refused before they reach the cache."""
    if len(text) > MAX_LENGTH:
        return SelectorError(f"longer than {MAX_LENGTH} characters ({len(text)})")
    return _compiled(text)


def selector_annotation(annotations: Mapping[str, str]) -> tuple[str, str] | None:
    """(annotation name, selector text) of a Component, or None: the plugin's annotation, else
    its deprecated name; a blank value selects nothing, as the plugin then shows no card."""
    for name in (SELECTOR_ANNOTATION, TAG_SELECTOR_ANNOTATION):
        text = annotations.get(name)
        if isinstance(text, str) and text.strip():
            return name, text
    return None


def selector_problem(annotations: Mapping[str, str]) -> str | None:
    """A message naming the annotation when its selector cannot be used, else None."""
    found = selector_annotation(annotations)
    if found is None:
        return None
    compiled = compile_selector(found[1])
    if isinstance(compiled, SelectorError):
        return f"annotation {found[0]}: {compiled}; no dashboards are selected"
    return None


def absolute_url(base: str, path: Any) -> str | None:
    """Grafana's base URL + a path Grafana gave (`/d/uid/slug`). A Grafana served from a sub
    path (`https://x/grafana`) already puts it in front of its paths: it is not doubled."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        return None
    if any(ch.isspace() for ch in path):
        return None
    split = urlsplit(base)
    prefix = split.path.rstrip("/")
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        url = f"{split.scheme}://{split.netloc}{path}"
    else:
        url = base.rstrip("/") + path
    return url if len(url) <= URL_MAX else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def dashboards_from_hits(hits: Iterable[Any], base: str) -> tuple[Dashboard, ...]:
    """The dashboards of a search answer, by title then URL; hits that are not dashboards
    or lack a uid or a usable URL are left out."""
    out: dict[str, Dashboard] = {}
    for hit in hits:
        if not isinstance(hit, dict) or hit.get("type", "dash-db") != "dash-db":
            continue
        uid, url = _text(hit.get("uid")), absolute_url(base, hit.get("url"))
        if uid is None or url is None:
            continue
        title, tags, folder_url = hit.get("title"), hit.get("tags"), hit.get("folderUrl")
        out[uid] = Dashboard(
            uid=uid,
            title=title if isinstance(title, str) else "",
            url=url,
            tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
            folder_uid=_text(hit.get("folderUid")),
            folder_title=_text(hit.get("folderTitle")),
            folder_url=absolute_url(base, folder_url) if folder_url else None,
        )
    return tuple(sorted(out.values(), key=lambda d: (d.title, d.url)))
