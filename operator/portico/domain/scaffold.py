"""Scaffolding decided: validate values against the Template's JSON Schema, build the
render context, run the Template's own tests. Pure: no I/O, no kopf, no GitHub."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from portico.domain.refs import EntityKey
from portico.models.component import ComponentSpec
from portico.models.template import TemplateSpec
from portico.rendering.skeleton import (
    Limits,
    RenderError,
    RenderTooLarge,
    check_syntax,
    render_skeleton,
)

MARKER_TRAILER = "Portico-Component"


def schema_problem(parameters: Mapping[str, Any] | None) -> str | None:
    """Why spec.parameters is not a valid JSON Schema, or None."""
    if not parameters:
        return None
    try:
        Draft202012Validator.check_schema(dict(parameters))
    except SchemaError as e:
        where = "/".join(str(p) for p in e.absolute_path)
        return f"spec.parameters{('/' + where) if where else ''}: {e.message}"
    return None


def with_defaults(
    parameters: Mapping[str, Any] | None, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Top-level `default`s of the schema's properties, for values not given."""
    out = dict(values)
    for name, prop in ((parameters or {}).get("properties") or {}).items():
        if name not in out and isinstance(prop, Mapping) and "default" in prop:
            out[name] = prop["default"]
    return out


def values_problem(parameters: Mapping[str, Any] | None, values: Mapping[str, Any]) -> str | None:
    """The first rule the values break, with the JSON pointer of the field, or None."""
    if not parameters:
        return None
    validator = Draft202012Validator(dict(parameters))
    errors = sorted(validator.iter_errors(dict(values)), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    e = errors[0]
    pointer = "".join(f"/{p}" for p in e.absolute_path)
    return f"spec.scaffold.values{pointer}: {e.message} (rule: {e.validator})"


def skeleton_files(
    template: TemplateSpec, config_maps: Mapping[str, Mapping[str, str]]
) -> list[tuple[str, str]]:
    """Inline files, then each listed ConfigMap's keys under its path."""
    files = [(f.path, f.content) for f in (template.skeleton.files if template.skeleton else [])]
    for cm in template.skeleton.config_maps if template.skeleton else []:
        prefix = (cm.path or "").strip("/")
        for key, content in sorted((config_maps.get(cm.name) or {}).items()):
            files.append((f"{prefix}/{key}" if prefix else key, content))
    return files


def render_context(
    key: EntityKey, spec: ComponentSpec | None, template_key: EntityKey, values: Mapping[str, Any]
) -> dict[str, Any]:
    component = {"name": key.name, "namespace": key.namespace}
    if spec is not None:
        component |= {
            "owner": spec.owner,
            "type": spec.type,
            "lifecycle": spec.lifecycle,
            "system": spec.system or "",
            "description": spec.description or "",
        }
    return {
        "values": dict(values),
        "component": component,
        "template": {"name": template_key.name, "namespace": template_key.namespace},
    }


@dataclass(frozen=True)
class TestOutcome:
    name: str
    passed: bool
    message: str


def run_template_tests(
    template_key: EntityKey,
    template: TemplateSpec,
    config_maps: Mapping[str, Mapping[str, str]],
    limits: Limits,
    *,
    progress: Callable[[str], None] | None = None,
) -> list[TestOutcome]:
    """Each named set of values must validate, render, and produce the expected files.

    A template that fails to render fails its test; one that trips a resource limit
    (RenderTooLarge) stops all tests, as a timeout would. `progress` is told where the work
    is ("tests[0] (name) values", "tests[0] (name) skeleton.files[2] (path) content")."""
    files = skeleton_files(template, config_maps)
    results = []
    for i, test in enumerate(template.tests):
        label = f"tests[{i}] ({test.name})"

        def step(at: str, label: str = label) -> None:
            if progress:
                progress(f"{label} {at}")

        values = with_defaults(template.parameters, test.values or {})
        step("values")
        problem = values_problem(template.parameters, values)
        if problem:
            results.append(
                TestOutcome(test.name, False, problem.replace("spec.scaffold.values", "values"))
            )
            continue
        context = render_context(
            EntityKey("component", template_key.namespace, f"test-{test.name}"),
            None,
            template_key,
            values,
        )
        context["component"] |= {
            "owner": template.owner,
            "type": template.type,
            "lifecycle": "experimental",
            "system": "",
            "description": "",
        }
        try:
            rendered = render_skeleton(files, context, limits, progress=step)
        except RenderTooLarge as e:
            raise RenderTooLarge(f"{label} {e.where}", e.message) from e
        except RenderError as e:
            results.append(TestOutcome(test.name, False, str(e)))
            continue
        failure = None
        for want in test.expect:
            got = rendered.get(want.path)
            if got is None:
                failure = f"expected file {want.path} was not rendered"
            elif want.content is not None and got != want.content:
                failure = f"{want.path}: content differs from the expected"
            elif want.contains is not None and want.contains not in got:
                failure = f"{want.path}: does not contain {want.contains!r}"
            if failure:
                break
        results.append(
            TestOutcome(
                test.name, failure is None, failure or f"{len(rendered)} files rendered as expected"
            )
        )
    return results


def template_problems(
    template: TemplateSpec, config_maps: Mapping[str, Mapping[str, str]]
) -> list[str]:
    problems = []
    schema = schema_problem(template.parameters)
    if schema:
        problems.append(schema)
    problems += check_syntax(skeleton_files(template, config_maps))
    missing = [
        cm.name
        for cm in (template.skeleton.config_maps if template.skeleton else [])
        if cm.name not in config_maps
    ]
    problems += [f"spec.skeleton.configMaps: ConfigMap {name} not found" for name in missing]
    return problems
