"""YAML as people read it: multi-line strings (API definitions, descriptions) as `|` blocks,
characters as they are, keys in the order written."""

from typing import Any

import yaml

_Base: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_Base):  # type: ignore[misc]
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_all(documents: list[dict[str, Any]]) -> str:
    """Multi-document YAML; PyYAML falls back to quoting where a block cannot hold a string
    exactly (e.g. trailing spaces on a line)."""
    text: str = yaml.dump_all(
        documents, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )
    return text
