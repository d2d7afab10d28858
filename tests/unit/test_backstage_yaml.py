"""The YAML Portico writes for Backstage and kubectl: strings stay strings for YAML 1.2
readers (Backstage reads `1e3` as a number where PyYAML's YAML 1.1 does not), checked by
Backstage's own parser, and multi-line text is a readable block."""

import yaml

from portico.domain.backstage.yamltext import dump_all
from support.backstage import validate_yaml

TRICKY = [
    "1e3",
    "1.5e3",
    "0o17",
    "0x1f",
    "12",
    "-3",
    ".inf",
    ".NaN",
    "yes",
    "on",
    "true",
    "Null",
    "~",
    "",
    "007",
    "1_000",
]


def test_strings_stay_strings_for_backstage() -> None:
    entity = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "svc", "labels": {f"l{i}": v for i, v in enumerate(TRICKY) if v}},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"},
    }
    entity["metadata"]["labels"] = {
        k: v
        for k, v in entity["metadata"]["labels"].items()
        if v not in (".inf", ".NaN", "~", "-3")
    }  # not valid label values in Backstage anyway; the rest are
    assert validate_yaml(dump_all([entity])) == [[]]


def test_every_string_reads_back_as_written_and_yaml_12_numbers_are_quoted() -> None:
    assert yaml.safe_load(dump_all([{"values": TRICKY}])) == {"values": TRICKY}
    for value in ("1e3", "1.5e3", "0o17", "0x1f"):  # strings to PyYAML, numbers to YAML 1.2
        assert dump_all([{"v": value}]) == f"v: '{value}'\n"


def test_multi_line_text_is_a_block_with_its_characters() -> None:
    text = dump_all([{"definition": "openapi: 3.0.0\ninfo:\n  title: Café 🌃\n"}])
    assert text == "definition: |\n  openapi: 3.0.0\n  info:\n    title: Café 🌃\n"
