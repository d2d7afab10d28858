"""YAML as people read it: multi-line strings (API definitions, descriptions) as `|` blocks,
characters as they are, keys in the order written."""

import re
from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    """Pure Python: libyaml escapes characters beyond the BMP (emoji) even with
    allow_unicode, which makes files people read and diff worse."""


class _FastDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """libyaml, for documents machines read (the HTTP endpoint): about 4x faster."""


# Plain scalars that YAML 1.2 (Backstage) or go-yaml (kubectl) read as something other than a
# string, where PyYAML's YAML 1.1 rules see a string: these are quoted.
_NOT_A_STRING_ELSEWHERE = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
    r"|true|True|TRUE|false|False|FALSE|null|Null|NULL|~|"
)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style: str | None = None
    if "\n" in value:
        style = "|"
    elif _NOT_A_STRING_ELSEWHERE.fullmatch(value):
        style = "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
_FastDumper.add_representer(str, _str)


def dump_all(documents: list[dict[str, Any]], *, fast: bool = False) -> str:
    """Multi-document YAML; PyYAML falls back to quoting where a block cannot hold a string
    exactly (e.g. trailing spaces on a line)."""
    text: str = yaml.dump_all(
        documents,
        Dumper=_FastDumper if fast else _Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return text
