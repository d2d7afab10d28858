"""Packaging promises: `operator` stays the standard library's, examples parse, config errors
name the variable."""

import operator
from pathlib import Path

import pytest
import yaml

from portico.config import from_env
from portico.errors import ConfigError
from portico.models import kind_info

ROOT = Path(__file__).resolve().parents[2]


def test_operator_directory_does_not_shadow_the_standard_library() -> None:
    assert not (ROOT / "operator" / "__init__.py").exists()
    assert hasattr(operator, "itemgetter")


def test_every_example_parses_into_its_model() -> None:
    count = 0
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["apiVersion"].startswith("portico.dev/"):
                kind_info(doc["kind"]).spec.model_validate(doc["spec"])
                count += 1
    assert count == 7


def test_config_errors_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="PORTICO_WORKERS"):
        from_env({"PORTICO_WORKERS": "lots"})
    assert from_env({"PORTICO_NAMESPACES": "a, b"}).namespaces == ["a", "b"]
