"""Template updates decided: what a version covers, which policy wins, what UpToDate says and
how a Template counts its Components."""

from typing import Any

from portico.domain.refs import EntityKey
from portico.domain.upgrades import (
    promote,
    rendered_at,
    rollout_gate,
    template_counts,
    template_not_ready,
    template_version,
    update_condition,
    update_policy,
)
from portico.models.component import ComponentSpec
from portico.models.template import TemplateSpec

TKEY = EntityKey("template", "platform", "py")


def tpl(**spec: Any) -> TemplateSpec:
    base: dict[str, Any] = {
        "owner": "group:platform",
        "parameters": {"type": "object", "properties": {"name": {"type": "string"}}},
        "skeleton": {"files": [{"path": "README.md", "content": "# {{ values.name }}"}]},
    }
    return TemplateSpec.model_validate({**base, **spec})


def comp(**scaffold: Any) -> ComponentSpec:
    return ComponentSpec.model_validate(
        {
            "type": "service",
            "lifecycle": "production",
            "owner": "group:team",
            "scaffold": {"templateRef": {"name": "py"}, **scaffold},
        }
    )


def test_the_version_covers_what_affects_a_render_and_nothing_else() -> None:
    v = template_version(tpl(), {})
    assert len(v) == 12
    assert template_version(tpl(title="New title", tests=[{"name": "t"}]), {}) == v
    assert template_version(tpl(publish={"github": {"owner": "other"}}), {}) == v
    assert template_version(tpl(updatePolicy="None"), {}) == v
    changed = {"files": [{"path": "README.md", "content": "# {{ values.name }}!"}]}
    assert template_version(tpl(skeleton=changed), {}) != v
    assert template_version(tpl(parameters={"type": "object"}), {}) != v
    with_cm = tpl(skeleton={"configMaps": [{"name": "files"}]})
    a = template_version(with_cm, {"files": {"a.txt": "1"}})
    assert a != template_version(with_cm, {"files": {"a.txt": "2"}})
    assert a == template_version(with_cm, {"files": {"a.txt": "1"}, "unlisted": {"x": "y"}})


def test_the_component_s_policy_overrides_the_template_s() -> None:
    assert update_policy(tpl(), comp()) == "PullRequest"
    assert update_policy(tpl(updatePolicy="None"), comp()) == "None"
    assert update_policy(tpl(updatePolicy="None"), comp(updatePolicy="PullRequest")) == (
        "PullRequest"
    )
    assert update_policy(tpl(), comp(updatePolicy="None")) == "None"


def test_a_render_is_at_a_version_with_the_same_values_in_any_key_order() -> None:
    rendered = {"templateVersion": "abc", "values": {"a": 1, "b": {"c": 2}}}
    assert rendered_at(rendered, "abc", {"b": {"c": 2}, "a": 1})
    assert not rendered_at(rendered, "abd", {"a": 1, "b": {"c": 2}})
    assert not rendered_at(rendered, "abc", {"a": 1})
    assert rendered_at({"templateVersion": "abc"}, "abc", {})
    assert not rendered_at({}, "abc", {})  # scaffolded before versions were recorded


def test_a_merged_update_becomes_the_repository_s_version() -> None:
    repo = {"url": "u", "commit": "c", "templateVersion": "old", "values": {"a": 1}}
    merged = promote({**repo, "update": {"templateVersion": "new", "values": {"a": 2}}})
    assert merged == {**repo, "templateVersion": "new", "values": {"a": 2}}


def test_up_to_date_says_what_the_owner_must_do() -> None:
    pull = {"number": 7, "url": "https://github.com/acme/x/pull/7", "state": "open"}
    update = {"templateVersion": "v2", "branch": "portico/template", "pullRequest": pull}
    proposed = update_condition(update, TKEY, "https://github.com/acme/x")
    assert (proposed["status"], proposed["reason"]) == ("False", "UpdateProposed")
    assert pull["url"] in proposed["message"]
    conflicting = update_condition(
        {**update, "pullRequest": {**pull, "mergeable": False}}, TKEY, "u"
    )
    assert conflicting["reason"] == "UpdateConflicts"
    assert "resolve it at" in conflicting["message"]
    declined = update_condition({**update, "pullRequest": {**pull, "state": "closed"}}, TKEY, "u")
    assert declined["reason"] == "UpdateDeclined"
    branch = update_condition({"templateVersion": "v2", "branch": "portico/template"}, TKEY, "u")
    assert branch["reason"] == "UpdateBranchPushed"
    assert "branch portico/template of u" in branch["message"]


def test_only_a_checked_valid_version_with_passing_tests_rolls_out() -> None:
    def status(valid: str, tests: str, version: str = "v2") -> dict[str, Any]:
        conditions = [{"type": "Valid", "status": valid}, {"type": "TestsPassed", "status": tests}]
        return {"version": version, "conditions": conditions}

    assert template_not_ready(status("True", "True"), "v2") is None
    assert template_not_ready(status("True", "True", "v1"), "v2") == "is being checked"
    assert template_not_ready(status("False", "Unknown"), "v2") == "is not Valid"
    assert template_not_ready(status("True", "False"), "v2") == "fails its tests"
    assert rollout_gate(status("True", "True")) == ("v2", True)
    assert rollout_gate(status("True", "False")) == ("v2", False)


def test_a_template_counts_its_components_by_version_and_state() -> None:
    versions, counts, summary = template_counts(
        [
            ("v2", "UpToDate"),
            ("v1", "UpdateProposed"),
            ("v1", "UpdateConflicts"),
            ("v1", "UpdatesDisabled"),
            (None, None),
        ]
    )
    assert versions == [
        {"version": "v1", "components": 3},
        {"version": "unknown", "components": 1},
        {"version": "v2", "components": 1},
    ]
    assert counts["upToDate"] == 1
    assert counts["pending"] == 1
    assert summary == "1/5 up to date, 1 open, 1 conflicting, 1 pending, 1 disabled"
