"""API definitions are parsed once per content, not on every roll-up: the same definition
is answered from a bounded cache (any spec change is a new key, so nothing is stale), the
least recently used entry goes first, and YAML goes through libyaml's C loader."""

from typing import Any

import pytest
import yaml

from portico.domain import definitions
from portico.domain.definitions import DefinitionChecks, check_definition
from portico.domain.entity import view_from_body
from portico.domain.status import desired_status

OPENAPI = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"


def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    real = definitions.check_definition

    def spy(api_type: str, text: str) -> tuple[bool, str]:
        parsed.append(text)
        return real(api_type, text)

    monkeypatch.setattr(definitions, "check_definition", spy)
    return parsed


def test_the_same_definition_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = counting(monkeypatch)
    checks = DefinitionChecks()
    assert checks("openapi", OPENAPI) == check_definition("openapi", OPENAPI)
    assert checks("openapi", "".join(OPENAPI)) == (True, "openapi 3.1.0 document")
    assert len(parsed) == 1
    # A changed definition, or the same text claimed as another type, is asked again.
    assert checks("openapi", OPENAPI + "paths: {}\n")[0] is True
    assert checks("asyncapi", OPENAPI)[0] is False
    assert len(parsed) == 3


def test_the_cache_is_bounded_least_recently_used_first(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = counting(monkeypatch)
    checks = DefinitionChecks(size=3)
    texts = [f"type Q{i} {{ a: Int }}" for i in range(5)]
    for text in texts[:3]:
        checks("graphql", text)
    checks("graphql", texts[0])  # used again: now the most recent
    for text in texts[3:]:
        checks("graphql", text)
    assert len(checks) == 3
    parsed.clear()
    checks("graphql", texts[0])
    assert parsed == []  # kept
    checks("graphql", texts[1])
    assert parsed == [texts[1]]  # evicted, parsed again


def test_yaml_is_read_with_the_c_loader_when_pyyaml_has_it() -> None:
    if not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML built without libyaml")
    assert definitions.LOADER is yaml.CSafeLoader
    ok, message = check_definition("openapi", "openapi: 3.1.0\ninfo: [unclosed\n")
    assert not ok
    assert "line" in message  # the C loader's errors still say where


class NoGraph:
    def incoming(self, key: Any) -> list[Any]:
        return []

    def get(self, key: Any) -> Any:
        return None

    def application(self, namespace: str, name: str) -> Any:
        return None


def test_an_apis_roll_ups_do_not_parse_its_definition_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five roll-ups (providers and consumers changing) cost one parse of a large definition."""
    parsed = counting(monkeypatch)
    monkeypatch.setattr(definitions, "CHECKS", DefinitionChecks())
    monkeypatch.setattr("portico.domain.status.CHECKS", definitions.CHECKS)
    big = OPENAPI + "paths:\n" + "".join(f"  /p{i}: {{}}\n" for i in range(20_000))
    view = view_from_body(
        "API",
        {
            "kind": "API",
            "metadata": {"name": "checkout", "namespace": "shop", "uid": "u", "generation": 1},
            "spec": {
                "type": "openapi",
                "lifecycle": "production",
                "owner": "group:team",
                "definition": big,
            },
        },
    )
    for _ in range(5):
        status = desired_status(view, NoGraph(), now="2026-01-01T00:00:00Z")
        assert status["definition"] == {"valid": True, "message": "openapi 3.1.0 document"}
    assert len(parsed) == 1
