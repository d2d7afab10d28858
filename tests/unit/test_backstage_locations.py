"""Reading a Backstage catalog, pure (an in-memory reader): Location fan-out (target, targets,
globs, nesting, presence, cycles, depth), `$text`/`$json`/`$yaml` relative to the including
file, Backstage's rules for what is not a placeholder, and problems that name the file, the
entity and the field; YAML read as Backstage reads it, and bounded."""

import fnmatch
import posixpath
from textwrap import dedent
from typing import Any

import pytest

from portico.domain.backstage import locations
from portico.domain.backstage.locations import Collected, DescriptorNotFound, collect
from portico.domain.backstage.source import DescriptorError, Problem


class FakeReader:
    """Files by POSIX path; globs match those files; absolute targets are refused."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = {k: dedent(v) for k, v in files.items()}
        self.reads: list[str] = []

    def resolve(self, base: str, target: str) -> str:
        if target.startswith("/"):
            raise DescriptorError(f"{target}: an absolute path is refused")
        return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))

    def expand(self, location: str) -> list[str]:
        if "*" in location:
            return sorted(f for f in self.files if fnmatch.fnmatch(f, location))
        return [location]

    def read(self, location: str) -> str:
        self.reads.append(location)
        if location not in self.files:
            raise DescriptorNotFound(f"{location}: does not exist")
        return self.files[location]


def component(name: str, **spec: Any) -> str:
    lines = [f"  {k}: {v}" for k, v in spec.items()]
    return "\n".join(
        [
            "apiVersion: backstage.io/v1alpha1",
            "kind: Component",
            "metadata:",
            f"  name: {name}",
            "spec:",
            "  type: service",
            *lines,
            "",
        ]
    )


def location(*targets: str, presence: str = "required", name: str = "root") -> str:
    listed = "".join(f"\n    - {t}" for t in targets)
    return (
        f"apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: {name}\n"
        f"spec:\n  presence: {presence}\n  targets:{listed or ' []'}\n"
    )


def names(collected: Collected) -> list[str]:
    return [d.entity["metadata"]["name"] for d in collected.descriptors]


def test_locations_fan_out_in_order_relative_to_their_file() -> None:
    reader = FakeReader(
        {
            "repo/catalog-info.yaml": component("first")
            + "---\n"
            + "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: all}\n"
            + "spec:\n  target: ./services/*/catalog-info.yaml\n"
            + "  targets: [./teams/teams.yaml]\n"
            + "---\n"
            + component("last"),
            "repo/services/b/catalog-info.yaml": component("b"),
            "repo/services/a/catalog-info.yaml": location("./nested/more.yaml", name="a-loc"),
            "repo/services/a/nested/more.yaml": component("nested"),
            "repo/teams/teams.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Group\n"
            "metadata: {name: team}\nspec: {type: team, children: []}\n",
            "repo/unrelated.yaml": component("never"),
        }
    )

    collected = collect(["repo/catalog-info.yaml"], reader)

    assert collected.problems == []
    # depth first: a's Location is followed before b; target before targets; Locations dropped
    assert names(collected) == ["first", "nested", "b", "team", "last"]
    assert [d.source for d in collected.descriptors][:2] == [
        "repo/catalog-info.yaml",
        "repo/services/a/nested/more.yaml",
    ]
    assert collected.locations == [
        "repo/catalog-info.yaml",
        "repo/services/a/catalog-info.yaml",
        "repo/services/a/nested/more.yaml",
        "repo/services/b/catalog-info.yaml",
        "repo/teams/teams.yaml",
    ]


def test_a_missing_required_target_is_a_problem_an_optional_one_is_not() -> None:
    reader = FakeReader(
        {
            "c.yaml": location("./gone.yaml", "./here.yaml", name="req")
            + "---\n"
            + location("./also-gone.yaml", "./none/*.yaml", presence="optional", name="opt"),
            "here.yaml": component("here"),
        }
    )

    collected = collect(["c.yaml"], reader)

    assert names(collected) == ["here"]
    assert collected.problems == [
        Problem("c.yaml", "location:default/req", "spec.targets[0]", "gone.yaml: does not exist")
    ]


def test_a_glob_that_matches_nothing_is_a_problem_when_required() -> None:
    reader = FakeReader({"c.yaml": location("./services/*/catalog-info.yaml")})

    (problem,) = collect(["c.yaml"], reader).problems

    assert (problem.entity, problem.field) == ("location:default/root", "spec.targets[0]")
    assert "services/*/catalog-info.yaml: no file matches" in problem.message


def test_a_missing_input_is_a_problem() -> None:
    assert collect(["nope.yaml"], FakeReader({})).problems == [
        Problem("nope.yaml", "input", "", "nope.yaml: does not exist")
    ]


def test_cycles_and_repeats_are_read_once() -> None:
    reader = FakeReader(
        {
            "a.yaml": location("./b.yaml", "./sub/../b.yaml", name="a") + "---\n" + component("x"),
            "b.yaml": location("./a.yaml", name="b") + "---\n" + component("y"),
        }
    )

    collected = collect(["a.yaml", "b.yaml"], reader)

    assert collected.problems == []
    assert names(collected) == ["y", "x"]
    assert reader.reads == ["a.yaml", "b.yaml"]


def test_locations_nest_only_so_deep() -> None:
    files = {f"l{i}.yaml": location(f"./l{i + 1}.yaml", name=f"l{i}") for i in range(40)}
    collected = collect(["l0.yaml"], FakeReader(files))

    assert len(collected.locations) == locations.MAX_DEPTH + 1
    (problem,) = collected.problems
    assert problem.source == f"l{locations.MAX_DEPTH}.yaml"
    assert "nest more than 32 deep" in problem.message


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ("{type: github-discovery, target: x}", "spec.type", "'github-discovery' is not supported"),
        ("{presence: maybe, target: ./x.yaml}", "spec.presence", "'required' or 'optional'"),
        ("{targets: ./x.yaml}", "spec.targets", "must be a list"),
        ("{targets: [42]}", "spec.targets[0]", "must be a path or URL"),
        ("{type: file, target: 'https://example.com/c.yaml'}", "spec.target", "not a URL"),
        ("{target: /etc/passwd}", "spec.target", "absolute path is refused"),
    ],
)
def test_a_location_that_cannot_be_followed_says_why(spec: str, field: str, message: str) -> None:
    text = (
        f"apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {{name: l}}\nspec: {spec}\n"
    )

    (problem,) = collect(["c.yaml"], FakeReader({"c.yaml": text, "x.yaml": ""})).problems

    assert (problem.source, problem.entity, problem.field) == (
        "c.yaml",
        "location:default/l",
        field,
    )
    assert message in problem.message


def test_placeholders_read_relative_to_the_file_that_holds_them() -> None:
    reader = FakeReader(
        {
            "catalog-info.yaml": location("./services/api/catalog-info.yaml"),
            "services/api/catalog-info.yaml": """\
                apiVersion: backstage.io/v1alpha1
                kind: API
                metadata:
                  name: orders
                  description: {$text: ./docs/summary.txt}
                spec:
                  type: openapi
                  definition: {$text: ./openapi.yaml}
                  schema: {$json: ../../shared/schema.json}
                  extra: {$yaml: ./docs/extra.yaml}
                  list: [{$text: ./docs/summary.txt}]
                """,
            "services/api/docs/summary.txt": "Orders, placed and paid.\n",
            "services/api/openapi.yaml": "openapi: 3.0.0\n",
            "shared/schema.json": '{"type": "object", "n": 1}',
            "services/api/docs/extra.yaml": "lifecycle: production\nnote: {$text: ./secret.txt}\n",
        }
    )

    collected = collect(["catalog-info.yaml"], reader)

    assert collected.problems == []
    (api,) = collected.descriptors
    assert api.source == "services/api/catalog-info.yaml"
    assert api.entity["metadata"]["description"] == "Orders, placed and paid.\n"
    assert api.entity["spec"]["definition"] == "openapi: 3.0.0\n"
    assert api.entity["spec"]["schema"] == {"type": "object", "n": 1}
    assert api.entity["spec"]["list"] == ["Orders, placed and paid.\n"]
    # substituted content is not searched again, as in Backstage: the file's own $text stays
    assert api.entity["spec"]["extra"] == {
        "lifecycle": "production",
        "note": {"$text": "./secret.txt"},
    }
    assert "services/api/docs/secret.txt" not in reader.reads
    assert reader.reads.count("services/api/docs/summary.txt") == 1
    assert "shared/schema.json" in collected.locations


def test_what_is_not_a_placeholder_is_left_alone_as_backstage_leaves_it() -> None:
    text = """\
        apiVersion: scaffolder.backstage.io/v1beta3
        kind: Template
        metadata: {name: t}
        spec:
          parameters:
            - properties:
                owner: {$ref: '#/definitions/owner'}
                both: {$text: ./x.txt, title: kept}
          unknown: {$include: ./x.txt}
        """
    collected = collect(["t.yaml"], FakeReader({"t.yaml": text, "x.txt": "x"}))

    assert collected.problems == []
    spec = collected.descriptors[0].entity["spec"]
    assert spec["parameters"][0]["properties"] == {
        "owner": {"$ref": "#/definitions/owner"},
        "both": {"$text": "./x.txt", "title": "kept"},
    }
    assert spec["unknown"] == {"$include": "./x.txt"}


def test_a_placeholder_that_fails_names_the_file_the_entity_and_the_field() -> None:
    reader = FakeReader(
        {
            "svc/catalog-info.yaml": """\
                apiVersion: backstage.io/v1alpha1
                kind: API
                metadata: {name: orders, namespace: shop}
                spec:
                  definition: {$text: ./missing.yaml}
                  parameters: [{a: 1}, {$yaml: ./bad.yaml}]
                  schema: {$json: ./bad.json}
                  two: {$yaml: ./two.yaml}
                  owner: {$text: 42}
                """,
            "svc/bad.yaml": "a: 1\nb: [unclosed\n",
            "svc/bad.json": "{'single': 'quotes'}",
            "svc/two.yaml": "a: 1\n---\nb: 2\n",
        }
    )

    problems = collect(["svc/catalog-info.yaml"], reader).problems

    where = [(p.source, p.entity, p.field) for p in problems]
    assert where == [
        ("svc/catalog-info.yaml", "api:shop/orders", f)
        for f in ("spec.definition", "spec.parameters[1]", "spec.schema", "spec.two", "spec.owner")
    ]
    messages = [p.message for p in problems]
    assert messages[0] == "$text: svc/missing.yaml: does not exist"
    assert messages[1].startswith("$yaml ./bad.yaml: not valid YAML: line 3")
    assert "not valid JSON" in messages[2]
    assert "exactly one YAML document" in messages[3]
    assert "needs a path or URL" in messages[4]


def test_documents_that_are_not_entities_are_problems_and_empty_ones_are_skipped() -> None:
    text = (
        component("one")
        + "---\n"
        + "---\n- a list\n"
        + "---\nmetadata: {name: nokind}\n"
        + "---\n"
        + component("two")
        + "---\n"
    )
    collected = collect(["c.yaml"], FakeReader({"c.yaml": text}))

    assert names(collected) == ["one", "two"]
    assert collected.problems == [
        Problem("c.yaml", "document 3", "", "must be a mapping (an entity), not list"),
        Problem("c.yaml", "document 4", "", "apiVersion and kind required"),
    ]


def test_a_yaml_syntax_error_names_the_file_and_the_line() -> None:
    text = component("fine") + "---\nkind: Component\nmetadata:\n  name: [oops\n"

    collected = collect(["c.yaml"], FakeReader({"c.yaml": text}))

    assert names(collected) == ["fine"]
    (problem,) = collected.problems
    assert (problem.source, problem.entity) == ("c.yaml", "document 2")
    assert problem.message.startswith("invalid YAML: line 1")  # the line where it gives up
    assert str(problem).startswith("c.yaml: document 2: invalid YAML: line ")


def test_yaml_reads_as_backstage_reads_it_yaml_1_2() -> None:
    text = """\
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: c
          annotations: {feature: on, legacy: yes, since: 2024-01-31}
        spec: {octal: 012, hex: 0x1f, float: 1.5e3, off: false, 8080: port}
        """
    (desc,) = collect(["c.yaml"], FakeReader({"c.yaml": text})).descriptors

    assert desc.entity["metadata"]["annotations"] == {
        "feature": "on",
        "legacy": "yes",
        "since": "2024-01-31",
    }
    assert desc.entity["spec"] == {
        "octal": 12,
        "hex": 31,
        "float": 1500.0,
        "off": False,
        "8080": "port",
    }


@pytest.mark.timeout(10)  # expanded, the bomb holds 10**9 values
def test_anchors_work_and_alias_bombs_do_not() -> None:
    anchors = component("c") + "  links: &l [{url: 'https://a'}]\n  more: *l\n"
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )
    bomb = "apiVersion: v1\nkind: Component\nmetadata: {name: boom}\n" + bomb
    loop = "apiVersion: v1\nkind: Component\nmetadata: {name: loop}\nspec: &s {self: *s}\n"
    files = {"ok.yaml": anchors, "bomb.yaml": bomb, "loop.yaml": loop, "big.yaml": "x: 1"}
    files["p.yaml"] = component("p", big="{$yaml: ./bomb.yaml}")

    collected = collect(["ok.yaml", "bomb.yaml", "loop.yaml", "p.yaml"], FakeReader(files))

    spec = collected.descriptors[0].entity["spec"]
    assert spec["links"] == spec["more"] == [{"url": "https://a"}]
    assert spec["links"] is not spec["more"]
    assert [(p.source, p.entity) for p in collected.problems] == [
        ("bomb.yaml", "component:default/boom"),
        ("loop.yaml", "component:default/loop"),
        ("p.yaml", "component:default/p"),
    ]
    assert "once YAML aliases expand" in collected.problems[0].message
    assert "contains it" in collected.problems[1].message
    assert collected.problems[2].field == "spec.big"


def test_a_file_holds_a_bounded_number_of_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locations, "MAX_DOCUMENTS", 3)
    text = "---\n".join(component(f"c{i}") for i in range(5))

    collected = collect(["c.yaml"], FakeReader({"c.yaml": text}))

    assert names(collected) == ["c0", "c1", "c2"]
    assert collected.problems == [Problem("c.yaml", "file", "", "more than 3 documents")]


def test_an_import_weighs_a_bounded_amount(monkeypatch: pytest.MonkeyPatch) -> None:
    """A placeholder named many times is read once, but would be written many times."""
    monkeypatch.setattr(locations, "MAX_TOTAL_WEIGHT", 1000)
    entities = "---\n".join(component(f"c{i}", doc="{$text: ./big.txt}") for i in range(10))
    files = {"c.yaml": entities, "big.txt": "x" * 20_000}

    collected = collect(["c.yaml"], FakeReader(files))

    assert len(collected.descriptors) < 10
    assert "weighs more than 1000" in collected.problems[0].message
