"""Nunjucks expressions and templates, as Jinja: what Backstage writes, as Portico renders it.

A Backstage template is nunjucks with variables written `${{ x }}` (`{{ x }}` is text, unless
`cookiecutterCompat`), and JavaScript's spellings (`===`, `&&`, `.toLowerCase()`). Jinja has
its own, so each expression is read token by token and written again; the free names are
looked up through a `Names`, which says what each root's keys become (template_steps and
template_parameters make them). Nunjucks writes `true` and `a,b` where Jinja writes `True` and
`['a', 'b']`, so a value `Names.written` marks gets its filter when written alone. Filters:
`dump`/`jsonify` become `to_json`, `pick` a subscript, `parseRepoUrl`/`projectSlug` cut
RepoUrlPicker's `host?owner=o&repo=r`; `parseEntityRef` is a problem. Untranslatable says why
an expression cannot be translated; the callers name the file and the field.
"""

import ast
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

VAR_START = "${{"  # Backstage's variables; "{{" with cookiecutterCompat


class Untranslatable(ValueError):
    """An expression Jinja cannot evaluate as Backstage would. `field` names the step input it
    came from when that is not where it was used."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Names:
    """What an expression's free names become: `root` (`parameters` in a step input, `values`
    in a skeleton) is looked up by key; `written` gives the filter that writes a key's value
    as nunjucks would (booleans, lists); `forbidden` roots exist in Backstage only, each with
    the reason."""

    root: str
    lookup: Callable[[str], str]
    written: Mapping[str, str] = field(default_factory=dict)
    forbidden: Mapping[str, str] = field(default_factory=dict)


_TOKEN = re.compile(
    r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|[A-Za-z_]\w*|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"""
    r"""|\s+|===|!==|==|!=|<=|>=|\*\*|//|\|\||&&|[-+*/%~|.,:()\[\]{}<>=!?]""",
    re.S,
)
_OPS = frozenset(
    ["===", "!==", "==", "!=", "<=", ">=", "**", "//", "||", "&&", *"-+*/%~|.,:()[]{}<>=!?"]
)
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "if", "else"})
_SIMPLE = re.compile(r"[A-Za-z_][\w.]*")
_NAME = re.compile(r"[A-Za-z_]\w*")
_SPELLED = {"===": "==", "!==": "!=", "&&": "and", "||": "or", "elseif": "elif", "null": "none"}
_JS: dict[str, str | None] = {"toLowerCase": "lower", "toUpperCase": "upper", "trim": "strip"}
_JS |= dict.fromkeys(["length", "includes", "startsWith", "endsWith", "indexOf", "substring"])


def _tokens(expr: str) -> list[str]:
    toks: list[str] = _TOKEN.findall(expr)
    if "".join(toks) != expr:
        raise Untranslatable(f"cannot read `{expr.strip()}` as an expression")
    return toks


def _step(toks: list[str], i: int, by: int) -> int:
    """The next (by=1) or previous (by=-1) token that is not whitespace."""
    i += by
    while 0 <= i < len(toks) and toks[i].isspace():
        i += by
    return i


def _at(toks: list[str], i: int) -> str:
    return toks[i] if 0 <= i < len(toks) else ""


def _matching(toks: list[str], i: int, by: int) -> int:
    depth = 0
    while 0 <= i < len(toks):
        depth += (toks[i] in "([{") - (toks[i] in ")]}") if toks[i] in _OPS else 0
        if depth == 0:
            return i
        i += by
    raise Untranslatable(f"unbalanced brackets in `{''.join(toks).strip()}`")


def _string(token: str) -> str:
    try:
        return str(ast.literal_eval(token))
    except (ValueError, SyntaxError) as e:
        raise Untranslatable(f"cannot read the string {token}") from e


def _key(toks: list[str], i: int, root: str) -> tuple[str, int]:
    """The key after `root` (`.key` or `["key"]`) and the index of its last token."""
    j = _step(toks, i, 1)
    k = _step(toks, j, 1)
    if _at(toks, j) == "." and _NAME.fullmatch(_at(toks, k)):
        return toks[k], k
    end = _step(toks, k, 1)
    if _at(toks, j) == "[" and _at(toks, k)[:1] in ("'", '"') and _at(toks, end) == "]":
        return _string(toks[k]), end
    raise Untranslatable(f"uses `{root}` as a whole, not one key of it")


def _names(toks: list[str], names: Names) -> list[str]:
    """Roots looked up; JavaScript's spellings replaced by Jinja's."""
    out: list[str] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        dotted = _at(out, _step(out, len(out), -1)) == "."
        if dotted and t in _JS:
            if _JS[t] is None:
                raise Untranslatable(f"JavaScript's `.{t}` has no Jinja equivalent")
            t = str(_JS[t])
        elif not dotted and t == names.root:
            key, i = _key(toks, i, t)
            t = names.lookup(key)
        elif not dotted and t in names.forbidden:
            raise Untranslatable(f"`{t}`: {names.forbidden[t]}")
        elif not dotted:
            t = _SPELLED.get(t, t)
        out.append(t)
        i += 1
    return out


def _operand_start(toks: list[str], bar: int) -> int:
    """Where the value a filter applies to starts: the postfix expression before the `|`
    (`a ~ b | f` is `a ~ (b | f)`), with any filters before it (`a | f | g`)."""
    j = _step(toks, bar, -1)
    while True:
        t, opened = _at(toks, j), ""
        if t in (")", "]", "}"):
            j = _matching(toks, j, -1)
            opened = toks[j]
        elif not t or t in _OPS or t in _KEYWORDS:
            raise Untranslatable("a filter without a value before it")
        k = _step(toks, j, -1)
        p = _at(toks, k)
        if p in (".", "|"):
            j = _step(toks, k, -1)
        elif opened in ("(", "[") and p and p not in _KEYWORDS and (p not in _OPS or p in ")]"):
            j = k  # a call or subscript of what precedes it
        else:
            return j


def grouped(expr: str) -> str:
    """`expr`, in parentheses unless it is a name, a literal or a group already."""
    toks = [t for t in _tokens(expr) if not t.isspace()]
    whole = toks[:1] == ["("] and _matching(toks, 0, 1) == len(toks) - 1
    return expr if _SIMPLE.fullmatch(expr) or len(toks) == 1 or whole else f"({expr})"


def repo_url_part(expr: str, key: str) -> str:
    """Jinja for one part (owner, repo) of a RepoUrlPicker value (`github.com?owner=a&repo=b`);
    as in Backstage, a value without `repo` fails the render."""
    part = f'{grouped(expr)}.split("{key}=")[1].split("&")[0]'
    return part if key == "repo" else f'({part} if "{key}=" in {grouped(expr)} else "")'


def _pick(operand: str, args: str) -> str:
    literal = args.strip()[:1] in ("'", '"') and len(_tokens(args.strip())) == 1
    keys = _string(args.strip()).split(".") if literal else []  # lodash's get: a dotted path
    subscripts = "".join(f"[{json.dumps(k)}]" for k in keys) if literal else f"[{args.strip()}]"
    return grouped(operand) + subscripts


_STRUCTURAL: dict[str, Callable[[str, str], str]] = {
    "parseRepoUrl": lambda o, _: (
        f'{{"host": {grouped(o)}.split("?")[0], "owner": {repo_url_part(o, "owner")}, '
        f'"repo": {repo_url_part(o, "repo")}}}'
    ),
    "projectSlug": lambda o, _: f'{repo_url_part(o, "owner")} ~ "/" ~ {repo_url_part(o, "repo")}',
    "pick": _pick,
}


def _filters(toks: list[str]) -> list[str]:
    i = 0
    while i < len(toks):
        if toks[i] == "|":
            j = _step(toks, i, 1)
            k = _step(toks, j, 1)
            end, args = j + 1, ""
            if _at(toks, k) == "(":
                end = _matching(toks, k, 1) + 1
                args = "".join(toks[k + 1 : end - 1])
            name = _at(toks, j)
            if name in ("dump", "jsonify"):
                toks[j] = "tojson" if args.strip() else "to_json"
            elif name == "parseEntityRef":
                raise Untranslatable("the filter parseEntityRef has no Jinja equivalent")
            elif name in _STRUCTURAL:
                start = _operand_start(toks, i)
                operand = "".join(toks[start:i]).strip()
                toks[start:end] = [f"({_STRUCTURAL[name](operand, args)})"]
                i = start
        i += 1
    return toks


def translate(expr: str, names: Names) -> str:
    """A nunjucks expression, or the inside of a tag, as Jinja."""
    return "".join(_filters(_names(_tokens(expr), names)))


def _close(text: str, start: int, end: str) -> int:
    """Where `end` closes the tag opened before `start`, outside strings and braces."""
    i, depth, quote = start, 0, ""
    while i < len(text):
        c = text[i]
        if quote:
            quote = "" if c == quote else quote
            i += 2 if c == "\\" else 1
            continue
        if text.startswith(end, i) and depth <= 0:
            return i
        quote = c if c in "\"'" else ""
        depth += (c == "{") - (c == "}")
        i += 1
    raise Untranslatable(f"`{text[start - 2 : start + 30]}...` is not closed with `{end}`")


def _inner(body: str) -> tuple[str, str, str]:
    """A tag's inside as (whitespace control, expression, whitespace control)."""
    m = re.fullmatch(r"(-?)(.*?)(-?)", body, re.S)
    assert m is not None  # matches any text
    return m[1], m[2], m[3]


def convert_text(text: str, names: Names, var_start: str = VAR_START) -> str:
    """A nunjucks template (a skeleton file or path, a step input) as Jinja."""
    opener = re.compile(re.escape(var_start) + r"|\{%|\{#")
    out: list[str] = []
    pos = 0
    while m := opener.search(text, pos):
        chunk = text[pos : m.start()]
        if var_start == VAR_START:  # Backstage's `{{` is text; Jinja's is not
            chunk = chunk.replace("{{", "{{ '{{' }}")
            chunk = chunk[:-1] + "{{ '{' }}" if chunk.endswith("{") else chunk
        out.append(chunk)
        if m[0] == "{#":
            end = text.find("#}", m.end())
            if end < 0:
                raise Untranslatable("a comment `{#` is not closed with `#}`")
            out.append(text[m.start() : end + 2])
            pos = end + 2
            continue
        end = _close(text, m.end(), "%}" if m[0] == "{%" else "}}")
        lead, core, trail = _inner(text[m.end() : end])
        pos = end + 2
        word = (core.split() or [""])[0] if m[0] == "{%" else ""
        if word in ("include", "import", "from", "extends"):
            raise Untranslatable(f"`{{% {word} %}}`: a Portico skeleton file cannot read another")
        if word in ("raw", "verbatim"):
            closing = re.compile(r"\{%[-+]?\s*end" + word + r"\s*-?%\}").search(text, pos)
            if closing is None:
                raise Untranslatable(f"`{{% {word} %}}` is not closed")
            content = text[pos : closing.start()]
            if re.search(r"\{%[-+]?\s*endraw", content):  # would end the raw block early
                out.append(re.sub(r"\{[{%#]", lambda m: "{{ '" + m[0] + "' }}", content))
            else:
                out += ["{%" + lead + " raw " + trail + "%}", content]
                out.append(closing[0].replace("endverbatim", "endraw"))
            pos = closing.end()
        elif m[0] == "{%":
            out.append("{%" + lead + translate(core, names) + trail + "%}")
        else:
            jinja = translate(core, names)
            parts = [t for t in _tokens(core) if not t.isspace()]
            if len(parts) == 3 and parts[:2] == [names.root, "."] and parts[2] in names.written:
                jinja = f"{jinja.rstrip()} | {names.written[parts[2]]} "
            out.append("{{" + lead + jinja + trail + "}}")
    tail = text[pos:]
    return "".join(out) + (tail.replace("{{", "{{ '{{' }}") if var_start == VAR_START else tail)


def literal(text: str) -> str:
    """Jinja that outputs `text` as it is (what Backstage copies without templating)."""
    if not re.search(r"\{[{%#]", text):
        return text
    if not re.search(r"\{%[-+]?\s*endraw", text):
        return "{% raw %}" + text + "{% endraw %}"
    return re.sub(r"\{[{%#]", lambda m: "{{ '" + m[0] + "' }}", text)


def input_expression(value: object, names: Names) -> str:
    """A step input (any YAML value, its strings with `${{ }}` in them) as one Jinja
    expression; a string that is one `${{ }}` keeps the type of its value, as in Backstage."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "none"}[value]
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(input_expression(v, names) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}: {input_expression(v, names)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if not isinstance(value, str) or "{%" in value:
        raise Untranslatable("a step input Portico cannot evaluate (a `{% %}` tag?)")
    pieces: list[str] = []
    pos = 0
    while (start := value.find(VAR_START, pos)) >= 0:
        end = _close(value, start + 3, "}}")
        if start > pos:
            pieces.append(json.dumps(value[pos:start], ensure_ascii=False))
        pieces.append(grouped(translate(_inner(value[start + 3 : end])[1], names).strip()))
        pos = end + 2
    if value[pos:] or not pieces:
        pieces.append(json.dumps(value[pos:], ensure_ascii=False))
    return pieces[0] if len(pieces) == 1 else "(" + " ~ ".join(pieces) + ")"
