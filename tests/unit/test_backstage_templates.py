"""Backstage scaffolder Templates converted to Portico Templates, judged by what a user sees.

Matrix: form pages (merge, required union, a conflict); skeletons (`${{ values.x }}` in paths
and contents, rendered by Portico's own renderer; copyWithoutTemplating kept byte for byte,
`{% endraw %}` included; optional and boolean values; a filter Jinja lacks; binary files; a
URL skeleton; a large skeleton in ConfigMaps under the size limit); publish:github and its
fixed owner; steps with no equivalent; a missing owner; the corpus template end to end.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from portico.domain.backstage.context import ImportContext
from portico.domain.backstage.source import Descriptor, DescriptorError
from portico.domain.backstage.templates import (
    CONFIGMAP_MAX,
    TemplateConversion,
    convert_template,
)
from portico.domain.refs import EntityKey
from portico.domain.scaffold import render_context, skeleton_files, with_defaults
from portico.models.template import TemplateSpec
from portico.rendering.skeleton import render_skeleton

CORPUS = Path(__file__).parents[1] / "corpus" / "backstage" / "templates" / "python-service"
SOURCE = "catalog/templates/web/template.yaml"


def read_dir(url: str, source: str) -> dict[str, bytes]:
    """The SkeletonReader of the tests: a local directory next to the descriptor."""
    if "://" in url:
        raise DescriptorError(f"{url}: a skeleton must be a local directory")
    root = Path(source).parent / url
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def reader_of(files: Mapping[str, bytes | str]) -> Any:
    def read(url: str, source: str) -> dict[str, bytes]:
        assert (url, source) == ("./skeleton", SOURCE)
        return {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}

    return read


def template(steps: list[dict[str, Any]], parameters: Any = None, **spec: Any) -> dict[str, Any]:
    params = parameters or {"required": ["name"], "properties": {"name": {"type": "string"}}}
    return {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {"name": "web", "title": "Web service"},
        "spec": {"owner": "team-web", "type": "website", "parameters": params, "steps": steps}
        | spec,
    }


def fetch(**inputs: Any) -> dict[str, Any]:
    values = {"name": "${{ parameters.name }}"}
    return {
        "id": "fetch",
        "action": "fetch:template",
        "input": {"url": "./skeleton"} | {"values": values} | inputs,
    }


def convert(
    entity: dict[str, Any], files: Mapping[str, bytes | str] | None = None
) -> TemplateConversion:
    return convert_template(
        Descriptor(entity, SOURCE), ImportContext("web"), reader_of(files or {})
    )


def spec_of(conversion: TemplateConversion) -> TemplateSpec:
    assert conversion.manifests, conversion.problems
    manifest = conversion.manifests[0]
    assert (manifest["apiVersion"], manifest["kind"]) == ("portico.dev/v1alpha1", "Template")
    return TemplateSpec.model_validate(manifest["spec"])


def render(conversion: TemplateConversion, values: dict[str, Any]) -> dict[str, str]:
    """What Portico writes into a repository scaffolded from the converted Template."""
    spec = spec_of(conversion)
    config_maps = {m["metadata"]["name"]: m["data"] for m in conversion.manifests[1:]}
    values = with_defaults(spec.parameters, values)
    assert not list(Draft202012Validator(spec.parameters or {}).iter_errors(values))
    tkey = EntityKey("template", "web", "web")
    context = render_context(EntityKey("component", "web", "shop"), None, tkey, values)
    return render_skeleton(skeleton_files(spec, config_maps), context)


def test_form_pages_become_one_schema_with_required_unioned_and_page_rules_kept() -> None:
    pages = [
        {
            "title": "About",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "ui:autofocus": True},
                "kind": {"type": "string", "enum": ["api", "web"]},
            },
            "dependencies": {"kind": {"required": ["name"]}},
        },
        {
            "title": "Where",
            "required": ["region", "name"],
            "properties": {
                "region": {"type": "string"},
                "name": {"type": "string", "ui:autofocus": True},  # the same schema again: fine
            },
            "if": {"properties": {"region": {"const": "eu"}}},
            "then": {"required": ["kind"]},
        },
    ]
    conversion = convert(template([], pages))
    assert conversion.problems == []
    schema = spec_of(conversion).parameters
    assert schema is not None
    assert schema["type"] == "object"
    assert list(schema["properties"]) == ["name", "kind", "region"]
    assert schema["required"] == ["name", "region"]
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    assert validator.is_valid({"name": "shop", "region": "us"})
    assert not validator.is_valid({"name": "shop"})  # region: the second page's required
    assert not validator.is_valid({"name": "shop", "region": "eu"})  # page 2's if/then
    assert validator.is_valid({"name": "shop", "region": "eu", "kind": "web"})


def test_a_property_two_pages_define_differently_is_a_problem_naming_both() -> None:
    pages = [
        {"properties": {"name": {"type": "string"}}},
        {"properties": {"name": {"type": "integer"}}},
    ]
    conversion = convert(template([], pages))
    [problem] = conversion.problems
    assert problem.field == "spec.parameters[1].properties.name"
    assert "spec.parameters[0].properties.name" in problem.message
    assert (problem.source, problem.entity) == (SOURCE, "template:default/web")


def test_values_in_paths_and_contents_render_as_backstage_would() -> None:
    files = {
        "src/${{ values.name }}/main.py": 'NAME = "${{values.name}}"\nPORT = ${{ values.port }}\n',
        "README.md": "# ${{ values.title | upper }}\n"
        "{% if values.debug %}debug: ${{ values.debug }}\n{% endif %}"
        "note: ${{ values.note }}.\n{{ helm }} stays ${{ values.tags }}\n",
    }
    values = {
        "name": "${{ parameters.component_id }}",  # a rename
        "title": "Service ${{ parameters.component_id }}",  # text and an expression
        "port": 8080,  # a constant
        "debug": "${{ parameters.debug }}",  # an optional boolean
        "note": "${{ parameters.note }}",  # optional, no default: "" as in nunjucks
        "tags": "${{ parameters.tags }}",  # a list: written a,b as in nunjucks
    }
    params = {
        "required": ["component_id"],
        "properties": {
            "component_id": {"type": "string"},
            "debug": {"type": "boolean", "default": False},
            "note": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}, "default": ["a", "b"]},
        },
    }
    step = fetch(values=values, targetPath="./services")
    conversion = convert(template([step], params), files)
    assert conversion.problems == []
    out = render(conversion, {"component_id": "shop", "debug": True})
    assert out == {
        "services/src/shop/main.py": 'NAME = "shop"\nPORT = 8080\n',
        "services/README.md": "# SERVICE SHOP\ndebug: true\nnote: .\n{{ helm }} stays a,b\n",
    }


def test_copy_without_templating_keeps_files_byte_for_byte_but_renders_their_paths() -> None:
    workflow = "run: echo ${{ github.sha }} {{ x }} {% raw %}{# y #}\n"
    tricky = "a {% endraw %} b {{ c }} {%- endraw -%} ${{ values.name }}\n"
    files = {
        ".github/workflows/ci.yaml": workflow,
        "docs/${{ values.name }}/notes.md": tricky,
        "plain.txt": "no braces at all\n",
        "main.txt": "${{ values.name }}\n",
    }
    step = fetch(copyWithoutTemplating=[".github/workflows/*", "docs", "plain.txt"])
    conversion = convert(template([step]), files)
    assert conversion.problems == []
    out = render(conversion, {"name": "shop"})
    assert out[".github/workflows/ci.yaml"] == workflow
    assert out["docs/shop/notes.md"] == tricky
    assert out["plain.txt"] == "no braces at all\n"
    assert out["main.txt"] == "shop\n"


def test_copy_without_render_leaves_the_path_unrendered_too() -> None:
    step = fetch(copyWithoutRender=["*.txt"])
    conversion = convert(template([step]), {"${{ values.name }}.txt": "${{ values.name }}"})
    assert render(conversion, {"name": "shop"}) == {"${{ values.name }}.txt": "${{ values.name }}"}


def test_cookiecutter_compat_and_template_file_extension_render_their_own_way() -> None:
    compat = fetch(cookiecutterCompat=True)
    conversion = convert(
        template([compat]), {"{{ cookiecutter.name }}.txt": "{{ cookiecutter.name | jsonify }}"}
    )
    assert render(conversion, {"name": "shop"}) == {"shop.txt": '"shop"'}
    njk = fetch(templateFileExtension=True)
    files = {"a.txt.njk": "${{ values.name }}", "${{ values.name }}.md": "${{ kept }}"}
    conversion = convert(template([njk]), files)
    assert render(conversion, {"name": "shop"}) == {"a.txt": "shop", "shop.md": "${{ kept }}"}


def test_publish_git_becomes_a_jinja_url() -> None:
    step = {
        "action": "publish:git",
        "input": {"remoteUrl": "https://git.example.com/${{ parameters.name }}.git"},
    }
    git = spec_of(convert(template([step]))).publish.git  # type: ignore[union-attr]
    assert git is not None
    assert git.url == "https://git.example.com/{{ values.name }}.git"


def test_a_value_through_a_filter_jinja_lacks_is_a_problem_naming_the_value_and_files() -> None:
    values = {"name": "${{ parameters.name }}", "team": "${{ parameters.name | parseEntityRef }}"}
    files = {"a.txt": "${{ values.team.name }}", "b.txt": "${{ values.team.name }}"}
    conversion = convert(template([fetch(values=values)]), files)
    [problem] = conversion.problems
    assert problem.field == "spec.steps[0].input.values.team"
    assert "parseEntityRef" in problem.message
    assert "(in a.txt, b.txt)" in problem.message


def test_a_skeleton_filter_jinja_lacks_is_a_problem_naming_the_file() -> None:
    conversion = convert(template([fetch()]), {"x.txt": "${{ values.name | nl2br }}"})
    [problem] = conversion.problems
    assert problem.field == "spec.steps[0].input.url"
    assert problem.message.startswith("x.txt content line 1")
    assert "nl2br" in problem.message


def test_binary_files_are_listed_as_unsupported() -> None:
    files = {"logo.png": b"\x89PNG\r\n\x1a\n\x00\xff", "a.txt": "a"}
    conversion = convert(template([fetch()]), files)
    assert conversion.problems == []
    assert any("logo.png: a binary file" in u for u in conversion.unsupported)
    assert [f.path for f in spec_of(conversion).skeleton.files] == ["a.txt"]  # type: ignore[union-attr]


def test_a_skeleton_behind_a_url_is_a_problem_naming_the_step_field() -> None:
    step = fetch(url="https://github.com/acme/templates/tree/main/web")
    conversion = convert_template(
        Descriptor(template([step]), SOURCE), ImportContext("web"), read_dir
    )
    [problem] = conversion.problems
    assert problem.field == "spec.steps[0].input.url"
    assert "local directory" in problem.message


def test_publish_github_becomes_a_fixed_owner_and_a_jinja_repository_name() -> None:
    publish = {
        "id": "publish",
        "action": "publish:github",
        "input": {
            "repoUrl": "github.com?owner=acme&repo=${{ parameters.name }}-svc",
            "repoVisibility": "public",
            "topics": ["web", "${{ parameters.name }}"],
            "protectDefaultBranch": False,
            "defaultBranch": "main",
        },
    }
    conversion = convert(template([fetch(), publish]), {"a.txt": "a"})
    assert conversion.problems == []
    github = spec_of(conversion).publish.github  # type: ignore[union-attr]
    assert github is not None
    assert (github.owner, github.visibility, github.topics) == ("acme", "public", ["web"])
    assert github.repo_name == "{{ values.name }}-svc"
    assert github.branch_protection is False
    assert any("defaultBranch" in u for u in conversion.unsupported)
    assert any("topics that are expressions" in u for u in conversion.unsupported)


def test_publish_github_defaults_follow_backstage() -> None:
    publish = {"action": "publish:github", "input": {"repoUrl": "github.com?owner=acme&repo=x"}}
    github = spec_of(convert(template([publish]))).publish.github  # type: ignore[union-attr]
    assert github is not None
    assert (github.visibility, github.branch_protection) == ("private", True)


@pytest.mark.parametrize(
    "repo_url",
    ["github.com?owner=${{ parameters.org }}&repo=x", "${{ parameters.name }}"],
)
def test_an_owner_chosen_in_the_form_is_a_problem(repo_url: str) -> None:
    publish = {"action": "publish:github", "input": {"repoUrl": repo_url}}
    conversion = convert(template([publish]))
    [problem] = conversion.problems
    assert problem.field == "spec.steps[0].input.repoUrl"
    assert "fixed" in problem.message


def test_steps_with_no_portico_equivalent_are_listed_by_id_and_action() -> None:
    steps = [
        {"id": "register", "action": "catalog:register", "input": {}},
        {"id": "log", "action": "debug:log", "input": {"message": "hi"}},
        {"name": "Kick CI", "action": "github:actions:dispatch", "input": {}},
        {"id": "gitlab", "action": "publish:gitlab", "input": {}},
    ]
    unsupported = convert(template(steps)).unsupported
    assert (
        "step 'register' (catalog:register): Portico's Component is the catalog entry; "
        "nothing to do"
    ) in unsupported
    assert any(u.startswith("step 'log' (debug:log)") for u in unsupported)
    assert any(u.startswith("step 'Kick CI' (github:actions:dispatch)") for u in unsupported)
    assert any(u.startswith("step 'gitlab' (publish:gitlab)") for u in unsupported)
    assert any("spec.publish is unset" in u for u in unsupported)


def test_a_missing_owner_is_a_problem_naming_spec_owner() -> None:
    entity = template([])
    del entity["spec"]["owner"]
    conversion = convert(entity)
    assert conversion.manifests == []
    assert "spec.owner" in [p.field for p in conversion.problems]


def test_an_owner_without_a_kind_is_a_group() -> None:
    assert spec_of(convert(template([]))).owner == "group:team-web"


def test_a_large_skeleton_goes_to_configmaps_each_under_the_limit() -> None:
    big = "x" * (200 * 1024) + "${{ values.name }}\n"
    files = {f"data/part-{i}.txt": big for i in range(10)}
    files |= {"docs/${{ values.name }}.md": "# ${{ values.name }}\n", "README.md": "hi\n"}
    conversion = convert(template([fetch()]), files)
    assert conversion.problems == []
    template_manifest, *config_maps = conversion.manifests
    assert len(config_maps) >= 3  # 2 MB of data/ does not fit one ConfigMap
    for cm in config_maps:
        assert (cm["apiVersion"], cm["kind"]) == ("v1", "ConfigMap")
        assert cm["metadata"]["namespace"] == template_manifest["metadata"]["namespace"]
        size = sum(len(k) + len(v.encode()) for k, v in cm["data"].items())
        assert size < CONFIGMAP_MAX
        assert all("/" not in key for key in cm["data"])
    skeleton = template_manifest["spec"]["skeleton"]
    assert [f["path"] for f in skeleton["files"]] == [
        "docs/{{ values.name }}.md"
    ]  # a templated name
    out = render(conversion, {"name": "shop"})
    assert len(out) == 12
    assert out["data/part-3.txt"].endswith("shop\n")
    assert out["docs/shop.md"] == "# shop\n"
    again = convert(template([fetch()]), files)
    assert again.manifests == conversion.manifests  # names are deterministic


def test_the_corpus_template_converts_without_problems_and_renders() -> None:
    source = CORPUS / "template.yaml"
    entity = yaml.safe_load(source.read_text())
    conversion = convert_template(
        Descriptor(entity, str(source)), ImportContext("payments"), read_dir
    )
    assert conversion.problems == []
    spec = spec_of(conversion)
    assert spec.owner == "group:team-payments"
    assert spec.publish is not None
    assert spec.publish.github is not None
    assert spec.publish.github.owner == "acme"
    assert any("catalog:register" in u for u in conversion.unsupported)
    values = {
        "name": "payments-api",
        "owner": "group:default/payments",
        "repoUrl": "github.com?owner=acme&repo=payments-api",
    }
    out = render(conversion, values)
    assert sorted(out) == [
        ".github/workflows/ci.yaml",
        "README.md",
        "catalog-info.yaml",
        "deploy/NOTES.txt",
        "deploy/payments-api.yaml",
        "requirements.txt",
        "src/app/__init__.py",
        "src/app/main.py",
    ]
    skeleton = CORPUS / "skeleton"
    assert out[".github/workflows/ci.yaml"] == (skeleton / ".github/workflows/ci.yaml").read_text()
    catalog = yaml.safe_load(out["catalog-info.yaml"])
    assert catalog["metadata"]["name"] == "payments-api"
    assert catalog["metadata"]["description"] == ""  # not given: empty, as in Backstage
    assert catalog["metadata"]["annotations"]["github.com/project-slug"] == "acme/payments-api"
    assert catalog["spec"]["owner"] == "group:default/payments"
    assert 'prometheus.io/scrape: "true"' in out["deploy/payments-api.yaml"]
    assert "{{ .Values.ingress.host }}" in out["deploy/NOTES.txt"]
    assert "prometheus-client" in out["requirements.txt"]


def test_verbatim_text_that_closes_a_raw_block_stays_text() -> None:
    """Nunjucks copies a verbatim block as it is; a `{% endraw %}` inside it must not end
    Jinja's raw block and make the rest live (it would render Portico's context)."""
    from jinja2.sandbox import SandboxedEnvironment

    from portico.domain.backstage.nunjucks import Names, convert_text

    names = Names("values", lambda k: f"values.{k}")
    text = "{% verbatim %}x{% endraw %}{{ component }}{% raw %}{% endverbatim %}"
    jinja = convert_text(text, names)
    rendered = SandboxedEnvironment().from_string(jinja).render(component={"owner": "secret"})
    assert rendered == "x{% endraw %}{{ component }}{% raw %}"


def test_a_skeleton_naming_portico_only_context_is_not_converted_silently() -> None:
    """Backstage's skeleton sees `values` only; Portico's render also has `component`, which
    Backstage would have rendered empty: such a file is a problem, not a silent change."""
    conversion = convert(template([fetch()]), {"x.txt": "owner: ${{ component.owner }}"})
    [problem] = conversion.problems
    assert problem.field == "spec.steps[0].input.url"
    assert problem.message.startswith("`component`: not in Backstage's skeleton context")
    assert problem.message.endswith("(in x.txt)")
