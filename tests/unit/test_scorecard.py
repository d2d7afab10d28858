"""Scorecards (domain/scorecard.py, models/scorecards.py): CEL checks over the entity, scoped
by kind, type, lifecycle and namespace, adding up to a level; bad CEL refused with the check
named."""

import time
from typing import Any

import pytest
import yaml

from portico.domain.entity import view_from_body
from portico.domain.scorecard import level_change, scorecard
from portico.models.config import OperatorConfig
from portico.models.scorecards import ScorecardConfig
from portico.reconcilers.config_source import parse_config

OWNER = "group:team"


def view(
    spec: dict[str, Any] | None = None,
    *,
    kind: str = "Component",
    namespace: str = "shop",
    annotations: dict[str, str] | None = None,
) -> Any:
    body = {
        "kind": kind,
        "metadata": {
            "name": "checkout",
            "namespace": namespace,
            "uid": "u",
            "generation": 1,
            "resourceVersion": "1",
            "annotations": annotations or {},
        },
        "spec": spec or {"type": "service", "lifecycle": "experimental", "owner": OWNER},
        "status": {},
    }
    return view_from_body(kind, body)


def config(**section: Any) -> ScorecardConfig:
    return ScorecardConfig.model_validate(section)


TWO_LEVELS = config(
    levels=["bronze", "silver"],
    checks=[
        {"name": "system", "level": "bronze", "expression": "has(self.spec.system)",
         "message": "set spec.system"},
        {"name": "docs", "level": "silver", "message": "add docs",
         "expression": 'has(self.status.links) && self.status.links.exists(l, l.type == "docs")'},
    ],
)  # fmt: skip
DOCS = {"links": [{"type": "docs", "title": "Docs", "url": "https://docs.example/x"}]}


def test_the_level_is_the_highest_whose_checks_and_every_lower_levels_pass() -> None:
    bare = view()
    in_system = view({"type": "service", "lifecycle": "production", "owner": OWNER, "system": "s"})
    assert scorecard(TWO_LEVELS, bare, {})["level"] == "none"  # type: ignore[index]
    assert scorecard(TWO_LEVELS, in_system, {})["level"] == "bronze"  # type: ignore[index]
    card = scorecard(TWO_LEVELS, in_system, DOCS)
    assert card is not None
    assert (card["level"], card["passed"], card["total"]) == ("silver", 2, 2)
    assert card["message"] == "all 2 checks pass"
    # docs alone is not silver: bronze is not passed
    assert scorecard(TWO_LEVELS, bare, DOCS)["level"] == "none"  # type: ignore[index]


def test_each_check_says_pass_or_fail_and_the_card_names_what_the_next_level_needs() -> None:
    card = scorecard(TWO_LEVELS, view(), {})
    assert card is not None
    assert card["checks"] == [
        {"name": "system", "level": "bronze", "result": "Fail", "message": "set spec.system"},
        {"name": "docs", "level": "silver", "result": "Fail", "message": "add docs"},
    ]
    assert card["message"] == "bronze needs: system (set spec.system)"


def test_checks_are_scoped_by_kind_type_lifecycle_and_namespace() -> None:
    scoped = config(
        levels=["gold"],
        checks=[
            {"name": "prod", "level": "gold", "expression": "false", "lifecycles": ["production"]},
            {"name": "web", "level": "gold", "expression": "false", "types": ["website"]},
            {"name": "team", "level": "gold", "expression": "false", "namespaces": ["team-*"]},
            {"name": "apis", "level": "gold", "expression": "true", "kinds": ["api"]},
        ],
    )
    assert scorecard(scoped, view(), {}) is None  # nothing applies: no card at all
    prod = view({"type": "service", "lifecycle": "production", "owner": OWNER})
    assert [c["name"] for c in scorecard(scoped, prod, {})["checks"]] == ["prod"]  # type: ignore[index]
    team = view(namespace="team-a")
    assert [c["name"] for c in scorecard(scoped, team, {})["checks"]] == ["team"]  # type: ignore[index]
    api = view({"type": "openapi", "lifecycle": "production", "owner": OWNER,
                "definition": "openapi: 3.0.0"}, kind="API")  # fmt: skip
    assert scorecard(scoped, api, {})["level"] == "gold"  # type: ignore[index]


def test_an_expression_that_fails_on_an_entity_is_a_failed_check_saying_why() -> None:
    checks = config(
        levels=["bronze"],
        checks=[
            {"name": "deep", "level": "bronze", "expression": 'self.spec.system == "x"'},
            {"name": "number", "level": "bronze", "expression": "size(self.metadata.name)"},
        ],
    )
    card = scorecard(checks, view(), {})
    assert card is not None
    deep, number = card["checks"]
    assert deep["result"] == "Fail"
    assert "could not evaluate" in deep["message"]
    assert "system" in deep["message"]
    assert number == {
        "name": "number", "level": "bronze", "result": "Fail",
        "message": "gave int, not true or false",
    }  # fmt: skip


def test_the_same_entity_always_gets_the_same_card() -> None:
    entity = view(annotations={"backstage.io/techdocs-ref": "dir:."})
    status = {"health": {"status": "Healthy", "signals": [{"source": "kubernetes"}]}}
    cards = {repr(scorecard(OperatorConfig().scorecards, entity, status)) for _ in range(3)}
    assert len(cards) == 1


def test_the_default_checks_score_a_well_kept_production_component_gold() -> None:
    spec = {
        "type": "service", "lifecycle": "production", "owner": OWNER, "system": "shop",
        "description": "Takes the money", "observe": {"prometheus": {"alertLabels": {"a": "b"}}},
    }  # fmt: skip
    status = {
        "conditions": [{"type": "RepositoryArchived", "status": "False"}],
        "links": [{"type": "docs", "url": "u"}, {"type": "dashboard", "url": "d"}],
        "health": {"status": "Healthy", "signals": [{"source": "kubernetes"}, {"source": "ci"}]},
        "ci": {"status": "completed", "conclusion": "success", "lastConclusion": "success"},
    }
    card = scorecard(OperatorConfig().scorecards, view(spec), status)
    assert card is not None
    assert card["level"] == "gold", card["message"]
    assert card["total"] == 10
    red = {**status, "ci": {"status": "completed", "conclusion": "failure",
                            "lastConclusion": "failure"}}  # fmt: skip
    assert scorecard(OperatorConfig().scorecards, view(spec), red)["level"] == "silver"  # type: ignore[index]
    # A push after a red run: the run under way does not lift the level to gold and back.
    pushed = {**status, "ci": {"status": "in_progress", "lastConclusion": "failure"}}
    assert scorecard(OperatorConfig().scorecards, view(spec), pushed)["level"] == "silver"  # type: ignore[index]
    archived = {**status, "conditions": [{"type": "RepositoryArchived", "status": "True"}]}
    card = scorecard(OperatorConfig().scorecards, view(spec), archived)
    assert card is not None
    assert card["level"] == "none"
    assert "repository (its GitHub repository is deleted or archived" in card["message"]


def test_a_level_change_is_reported_up_and_down_but_not_on_the_first_card() -> None:
    levels = ("bronze", "silver", "gold")
    assert level_change(levels, None, {"level": "gold"}) is None
    assert level_change(levels, {"level": "gold"}, {"level": "gold"}) is None
    assert level_change(levels, {"level": "bronze"}, {"level": "gold"}) == ("bronze", "gold", False)
    assert level_change(levels, {"level": "silver"}, {"level": "none"}) == ("silver", "none", True)


@pytest.mark.parametrize(
    ("check", "named"),
    [
        ({"expression": "self.spec.owner ==", "name": "broken"}, "check broken: expression:"),
        ({"expression": "self.spec.owner.lowerAscii() == 'x'", "name": "fn"},
         "check fn: expression: unknown function lowerAscii"),
        ({"expression": "spec.owner != ''", "name": "var"}, "check var: expression: Undefined"),
        ({"expression": "true", "name": "lvl", "level": "platinum"},
         "check lvl: level 'platinum' is not one of levels"),
    ],
)  # fmt: skip
def test_bad_cel_is_refused_with_the_check_named(check: dict[str, Any], named: str) -> None:
    section = {"levels": ["bronze"], "checks": [{"level": "bronze", **check}]}
    with pytest.raises(ValueError, match="scorecards") as caught:
        parse_config({"config.yaml": yaml.safe_dump({"scorecards": section})})
    assert named in str(caught.value)


def test_check_names_and_levels_are_unique() -> None:
    with pytest.raises(ValueError, match="named twice"):
        config(levels=["a"], checks=[{"name": "x", "level": "a", "expression": "true"}] * 2)
    with pytest.raises(ValueError, match="named twice"):
        config(levels=["a", "a"])
    with pytest.raises(ValueError, match="not 'none'"):
        config(levels=["none"])


def test_scorecards_can_be_turned_off() -> None:
    off = config(enabled=False)
    assert scorecard(off, view(), {}) is None


def test_custom_levels_without_checks_are_refused_not_a_keyerror_per_reconcile() -> None:
    with pytest.raises(ValueError, match="default checks use bronze, silver and gold"):
        config(levels=["basic", "advanced"])
    assert config(levels=["basic"], enabled=False).enabled is False  # off: nothing to score


def test_an_entity_too_large_to_score_fails_every_check_quickly() -> None:
    huge = view(annotations={f"a{i}": "x" * 1000 for i in range(200)})  # 200 KiB: legal
    started = time.perf_counter()
    card = scorecard(OperatorConfig().scorecards, huge, {})
    assert time.perf_counter() - started < 0.05  # printed by the bench; a gross bound here
    assert card is not None
    assert card["level"] == "none"
    assert {c["result"] for c in card["checks"]} == {"Fail"}
    assert card["checks"][0]["message"].startswith("the entity is too large to score (")
