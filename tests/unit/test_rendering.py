"""Skeleton rendering and scaffold decisions: the sandbox holds, no path escapes, limits
apply, filters work, values are checked against the schema with the field named, and a
Template's own tests pass or say why not."""

from typing import Any

import pytest

from portico.domain.refs import EntityKey
from portico.domain.scaffold import (
    run_template_tests,
    schema_problem,
    template_problems,
    values_problem,
    with_defaults,
)
from portico.models.template import TemplateSpec
from portico.rendering.skeleton import Limits, RenderError, render_skeleton, safe_path

CTX = {"values": {"name": "Checkout Service", "port": 8080}, "component": {"name": "checkout"}}


def render(files: list[tuple[str, str]], limits: Limits | None = None) -> dict[str, str]:
    return render_skeleton(files, CTX, limits or Limits())


def test_paths_and_contents_are_templates_with_filters() -> None:
    out = render(
        [
            (
                "{{ values.name | kebab_case }}/{{ values.name | snake_case }}.py",
                "# {{ values.name | pascal_case }} on {{ values.port }}\n",
            )
        ]
    )
    assert out == {"checkout-service/checkout_service.py": "# CheckoutService on 8080\n"}


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ values.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_the_sandbox_blocks_python_internals(source: str) -> None:
    with pytest.raises(RenderError, match=r"skeleton.files\[0\] \(x\) content"):
        render([("x", source)])


def test_an_undefined_value_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(RenderError, match="'dict object' has no attribute 'nmae'"):
        render([("x", "{{ values.nmae }}")])


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/etc/passwd", "absolute"),
        ("../../etc/passwd", "'..'"),
        ("a/../../b", "'..'"),
        ("a//b", "empty segment"),
        ("a/", "empty segment"),
        (".git/config", ".git"),
        ("a\\b", "backslash"),
        ("   ", "renders to nothing"),
    ],
)
def test_no_rendered_path_may_escape_or_be_unusable(path: str, says: str) -> None:
    with pytest.raises(RenderError, match=says):
        safe_path(path, "f")


def test_a_path_that_renders_into_an_escape_is_caught_too() -> None:
    with pytest.raises(RenderError, match=r"'\.\.'"):
        render_skeleton([("{{ values.dir }}/x", "")], {"values": {"dir": "../.."}})


def test_limits_on_files_and_bytes() -> None:
    with pytest.raises(RenderError, match="exceed the limit of 1"):
        render([("a", ""), ("b", "")], Limits(max_files=1))
    with pytest.raises(RenderError, match="exceeds 10 bytes"):
        render([("a", "x" * 11)], Limits(max_bytes=10))


def test_a_syntax_error_names_the_file_and_line() -> None:
    with pytest.raises(RenderError, match=r"\(x\) content line 2: syntax error"):
        render([("x", "ok\n{% if %}")])


SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z-]+$"},
        "port": {"type": "integer", "minimum": 1024, "default": 8080},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({}, "spec.scaffold.values: 'name' is a required property (rule: required)"),
        ({"name": "Bad Name"}, "spec.scaffold.values/name: 'Bad Name' does not match"),
        ({"name": "ok", "port": 80}, "spec.scaffold.values/port: 80 is less than the minimum"),
        (
            {"name": "ok", "tags": ["a", 3]},
            "spec.scaffold.values/tags/1: 3 is not of type 'string'",
        ),
    ],
)
def test_values_are_checked_against_the_schema_naming_the_field(
    values: dict[str, Any], says: str
) -> None:
    problem = values_problem(SCHEMA, values)
    assert problem is not None
    assert problem.startswith(says)


def test_defaults_fill_missing_values_and_valid_values_pass() -> None:
    values = with_defaults(SCHEMA, {"name": "ok"})
    assert values == {"name": "ok", "port": 8080}
    assert values_problem(SCHEMA, values) is None


def test_an_invalid_parameters_schema_is_reported() -> None:
    problem = schema_problem({"type": "object", "properties": {"a": {"type": "strung"}}})
    assert problem is not None
    assert problem.startswith("spec.parameters/properties/a/type:")


def template(**spec: Any) -> TemplateSpec:
    return TemplateSpec.model_validate({"owner": "group:platform", "parameters": SCHEMA, **spec})


def test_template_tests_pass_and_fail_with_reasons() -> None:
    spec = template(
        skeleton={"files": [{"path": "README.md", "content": "# {{ values.name }}\n"}]},
        tests=[
            {
                "name": "ok",
                "values": {"name": "svc"},
                "expect": [{"path": "README.md", "content": "# svc\n"}],
            },
            {
                "name": "wrong",
                "values": {"name": "svc"},
                "expect": [{"path": "README.md", "contains": "# other"}],
            },
            {"name": "missing", "values": {"name": "svc"}, "expect": [{"path": "Makefile"}]},
            {"name": "invalid", "values": {"name": "x", "port": 1}},
        ],
    )
    results = {
        r.name: r for r in run_template_tests(EntityKey("template", "p", "t"), spec, {}, Limits())
    }
    assert results["ok"].passed
    assert not results["wrong"].passed
    assert "does not contain '# other'" in results["wrong"].message
    assert "expected file Makefile was not rendered" in results["missing"].message
    assert results["invalid"].message.startswith("values/port:")


def test_template_problems_cover_schema_syntax_and_missing_configmaps() -> None:
    spec = template(
        parameters={"type": "nope"},
        skeleton={
            "files": [{"path": "a", "content": "{{"}],
            "configMaps": [{"name": "absent", "path": "ci"}],
        },
    )
    problems = template_problems(spec, {})
    assert any(p.startswith("spec.parameters") for p in problems)
    assert any("syntax error" in p for p in problems)
    assert "spec.skeleton.configMaps: ConfigMap absent not found" in problems


def test_configmap_files_land_under_their_path() -> None:
    spec = template(skeleton={"configMaps": [{"name": "ci", "path": ".github/workflows"}]})
    from portico.domain.scaffold import skeleton_files

    files = skeleton_files(spec, {"ci": {"test.yaml": "on: push\n"}})
    assert files == [(".github/workflows/test.yaml", "on: push\n")]
