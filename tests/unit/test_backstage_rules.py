"""Backstage's own entity validation, run for real (tests/support/backstage.py), and Portico's
Python copy of its naming rules (portico.domain.backstage.names) checked against it.

Matrix:
- one valid entity of every kind Backstage's catalog knows (eight built-in kinds and the
  scaffolder's v1beta3 Template) is accepted;
- each rule rejects what it should, for the reason it should, and accepts its near miss:
  entity name, namespace, label value, annotation key, tag, link, the kind's JSON Schema,
  unknown root fields, unknown kinds and apiVersions, relation targets, placeholders;
- a file read the way Backstage reads it (YAML 1.2: `no` is a string, empty documents skipped);
- every names.py predicate against Backstage's verdict on a table of tricky strings, each put
  into an otherwise valid entity at the place that predicate guards.
All entities go to Node in one batch and the YAML file in a second, so the module stays fast.
"""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from portico.domain.backstage import names
from support import backstage

Entity = dict[str, Any]

OWNER = "group:default/team-a"

VALID: dict[str, Entity] = {
    "Component": {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": "checkout",
            "namespace": "payments",
            "title": "Checkout",
            "description": "Takes the money.",
            "labels": {"portico.dev/tier": "gold", "team": ""},
            "annotations": {"backstage.io/techdocs-ref": "dir:.", "portico.dev/note": "any text"},
            "tags": ["python", "c++", "c#", "k8s:1-31"],
            "links": [{"url": "https://example.com/runbook", "title": "Runbook", "icon": "docs"}],
        },
        "spec": {
            "type": "service",
            "lifecycle": "production",
            "owner": OWNER,
            "system": "shop",
            "providesApis": ["checkout-api"],
            "consumesApis": ["api:default/ledger"],
            "dependsOn": ["resource:payments/db"],
        },
    },
    "API": {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "API",
        "metadata": {"name": "checkout-api"},
        "spec": {
            "type": "openapi",
            "lifecycle": "production",
            "owner": OWNER,
            "system": "shop",
            "definition": "openapi: 3.0.0\n",
        },
    },
    "System": {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "System",
        "metadata": {"name": "shop"},
        "spec": {"owner": OWNER, "domain": "commerce"},
    },
    "Domain": {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Domain",
        "metadata": {"name": "commerce"},
        "spec": {"owner": OWNER},
    },
    "Resource": {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Resource",
        "metadata": {"name": "db", "namespace": "payments"},
        "spec": {"type": "database", "owner": OWNER, "system": "shop"},
    },
    "Group": {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": "team-a"},
        "spec": {"type": "team", "profile": {"displayName": "Team A"}, "children": []},
    },
    "User": {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "User",
        "metadata": {"name": "jane"},
        "spec": {"memberOf": ["team-a"]},
    },
    "Location": {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {"name": "portico-export"},
        "spec": {"type": "url", "targets": ["https://example.com/catalog/components.yaml"]},
    },
    "Template": {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {"name": "python-service", "title": "Python service"},
        "spec": {
            "type": "service",
            "owner": OWNER,
            "parameters": [{"title": "Name", "properties": {"name": {"type": "string"}}}],
            "steps": [{"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton"}}],
            "output": {"links": [{"title": "Repository", "url": "${{ steps.publish.output }}"}]},
        },
    },
}


def component(**metadata: Any) -> Entity:
    """The minimal valid Component, with these `metadata` fields added or replaced."""
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "probe", **metadata},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"},
    }


def changed(entity: Entity, path: str, value: Any) -> Entity:
    """A copy with the dotted `path` set to `value`, or removed when value is ..."""
    out = copy.deepcopy(entity)
    *parents, last = path.split(".")
    node = out
    for part in parents:
        node = node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return out


# (id, entity, None if Backstage accepts it, else a fragment of its error)
RULES: list[tuple[str, Entity, str | None]] = [
    ("name-two-separators", component(name="my--service"), None),
    ("name-mixed-separators", component(name="My_Service.v2-x"), None),
    ("name-63", component(name="n" * 63), None),
    ("name-64", component(name="n" * 64), '"metadata.name" is not valid'),
    ("name-space", component(name="my service"), '"metadata.name" is not valid'),
    ("name-leading-separator", component(name="-svc"), '"metadata.name" is not valid'),
    ("namespace-lower", component(namespace="team-a"), None),
    ("namespace-upper", component(namespace="Team-A"), '"metadata.namespace" is not valid'),
    ("namespace-underscore", component(namespace="team_a"), '"metadata.namespace" is not valid'),
    ("label-value-63", component(labels={"k": "v" * 63}), None),
    ("label-value-64", component(labels={"k": "v" * 64}), '"labels.k" is not valid'),
    ("label-value-empty", component(labels={"k": ""}), None),
    ("label-key-prefixed", component(labels={"portico.dev/tier": "gold"}), None),
    (
        "label-key-upper-prefix",
        component(labels={"Portico.dev/tier": "gold"}),
        '"labels.Portico.dev/tier" is not valid',
    ),
    ("annotation-key-one-slash", component(annotations={"example.com/a": "x"}), None),
    (
        "annotation-key-two-slashes",
        component(annotations={"example.com/a/b": "x"}),
        '"annotations.example.com/a/b" is not valid',
    ),
    ("annotation-value-not-string", component(annotations={"a": 1}), "must be string"),
    ("tag-lower", component(tags=["c++"]), None),
    ("tag-upper", component(tags=["C++"]), '"tags.0" is not valid'),
    ("tag-double-dash", component(tags=["a--b"]), '"tags.0" is not valid'),
    ("link-with-url", component(links=[{"url": "https://example.com"}]), None),
    ("link-without-url", component(links=[{"title": "Docs"}]), "must have required property 'url'"),
    ("link-bad-url", component(links=[{"url": "not a url"}]), '"links.0.url" is not valid'),
    (
        "component-without-owner",
        changed(component(), "spec.owner", ...),
        "must have required property 'owner'",
    ),
    (
        "api-without-definition",
        changed(VALID["API"], "spec.definition", ...),
        "must have required property 'definition'",
    ),
    ("unknown-root-field", {**component(), "status": {"ok": True}}, "Unknown field status"),
    ("unknown-kind", {**component(), "kind": "Service"}, "No processor recognized"),
    (
        "unknown-api-version",
        {**component(), "apiVersion": "backstage.io/v2"},
        "No processor recognized",
    ),
    (
        "template-v1beta2",
        {**VALID["Template"], "apiVersion": "scaffolder.backstage.io/v1beta2"},
        "No processor recognized",
    ),
    ("owner-ref-malformed", changed(component(), "spec.owner", "group:"), "was not on the form"),
    (
        "placeholder",
        component(description={"$text": "./README.md"}),
        "is a $text placeholder",
    ),
]

FUNCTIONS: dict[str, Callable[[object], bool]] = {
    "is_object_name": names.is_object_name,
    "is_namespace": names.is_namespace,
    "is_label_key": names.is_label_key,
    "is_label_value": names.is_label_value,
    "is_annotation_key": names.is_annotation_key,
    "is_tag": names.is_tag,
}


def probe(function: str, value: Any) -> Entity:
    """An otherwise valid entity with `value` where `function` guards Backstage's input."""
    return {
        "is_object_name": lambda: component(name=value),
        "is_namespace": lambda: component(namespace=value),
        "is_label_key": lambda: component(labels={value: "x"}),
        "is_label_value": lambda: component(labels={"k": value}),
        "is_annotation_key": lambda: component(annotations={value: "x"}),
        "is_tag": lambda: component(tags=[value]),
    }[function]()


_LONG_PREFIX = ".".join(["p" * 63] * 4)[:253]
TRICKY: list[str] = [
    # separators and their places
    *["a", "A", "0", "a0", "-", "_", ".", "a-", "-a", "a.", ".a", "_a", "a_"],
    *["a--b", "a-_b", "a._-b", "a..b", "a__b", "a-b-c", "1-2"],
    # lengths
    *["", "x" * 63, "x" * 64, "X" * 63],
    # case and characters outside ASCII
    *["Default", "my-ns", "my--ns", "a.b", "é", "\uff41", "\u212a", "\u0130"],
    # whitespace and control characters, at either end
    *["a b", " a", "a ", "a\t", "\ta", "a\n", "\na", "a\r", "a\x00"],
    # tag alphabet
    *["c++", "C++", "c#", "a:b", "a:b-c", "::", "#", "+", "a-:b", "c--d", "-c", "c-", "a+b", "a#b"],
    # prefixes (label and annotation keys)
    *["a/b", "/a", "a/", "a/b/c", "example.com/a", "Example.com/a", "example.com/"],
    *["example..com/a", "ex_ample.com/a", "-example.com/a", "example.com-/a", "1.2.3/a"],
    *["example.com/a b", "example.com/a\n", "example.com\n/a", "example.com/" + "x" * 64],
    *[_LONG_PREFIX + "/x", "p" + _LONG_PREFIX + "/x", "a" * 64 + ".com/x"],
]
NOT_STRINGS: list[Any] = [5, True, None, ["a"], {"a": "b"}]

# Keys are strings in JSON, so non-strings only go where a value goes.
CROSS: list[tuple[str, Any]] = [
    *[(function, value) for function in FUNCTIONS for value in TRICKY],
    *[
        (function, value)
        for function in ("is_object_name", "is_namespace", "is_label_value", "is_tag")
        for value in NOT_STRINGS
    ],
]


def _id(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:12]}...len{len(value)}"


def _cross_params() -> list[Any]:
    return [
        pytest.param(i, function, value, id=f"{function}-{_id(value)}")
        for i, (function, value) in enumerate(CROSS)
    ]


@pytest.fixture(scope="module")
def verdicts() -> dict[str, list[str]]:
    """Backstage's errors for every entity this module builds, from one Node process."""
    batch: dict[str, Entity] = {f"valid:{kind}": entity for kind, entity in VALID.items()}
    batch.update({f"rule:{name}": entity for name, entity, _ in RULES})
    batch.update({f"cross:{i}": probe(fn, value) for i, (fn, value) in enumerate(CROSS)})
    return dict(zip(batch, backstage.validate(list(batch.values())), strict=True))


@pytest.mark.parametrize("kind", VALID)
def test_valid_entity_of_each_kind_is_accepted(verdicts: dict[str, list[str]], kind: str) -> None:
    assert verdicts[f"valid:{kind}"] == []


@pytest.mark.parametrize(("name", "error"), [pytest.param(n, e, id=n) for n, _, e in RULES])
def test_rule(verdicts: dict[str, list[str]], name: str, error: str | None) -> None:
    errors = verdicts[f"rule:{name}"]
    if error is None:
        assert errors == []
    else:
        assert errors, f"Backstage accepts {name}"
        assert error in errors[0], errors[0]


@pytest.mark.parametrize(("index", "function", "value"), _cross_params())
def test_names_py_agrees_with_backstage(
    verdicts: dict[str, list[str]], index: int, function: str, value: Any
) -> None:
    errors = verdicts[f"cross:{index}"]
    ours = FUNCTIONS[function](value)
    assert ours == (errors == []), f"names.{function}({value!r}) is {ours}, Backstage " + (
        f"rejects it: {errors[0]}" if errors else "accepts it"
    )


CATALOG_FILE = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  tags: [no, on, yes]
spec: {type: service, lifecycle: production, owner: team-a}
---
---
- not
- an entity
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
"""


@pytest.fixture(scope="module")
def file_verdicts() -> list[list[str]]:
    return backstage.validate_yaml(CATALOG_FILE)


def test_file_is_read_as_backstage_reads_it(file_verdicts: list[list[str]]) -> None:
    """YAML 1.2 keeps `no`/`on`/`yes` strings (PyYAML would make them booleans, which Backstage
    rejects as tags), skips the empty document and rejects a non-object one."""
    assert len(file_verdicts) == 3
    assert file_verdicts[0] == []
    assert file_verdicts[1] == ["Expected object at root, got object"]
    assert file_verdicts[2] == []


def test_assert_valid_names_every_rejected_entity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backstage, "validate", lambda entities: [[], ["bad name"], ["no owner"]])
    entities = [component(), component(name="x y"), component()]
    with pytest.raises(AssertionError) as raised:
        backstage.assert_valid(entities)
    message = str(raised.value)
    assert "Component 'x y': bad name" in message
    assert "Component 'probe': no owner" in message
