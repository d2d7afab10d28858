"""Entity references and relations: defaults, kinds, and both directions of every relation."""

import pytest

from portico.domain.refs import EntityKey, InvalidRef, parse_ref
from portico.domain.relations import INVERSE, Edge, outgoing_edges, relations_of
from portico.models import ComponentSpec, SystemSpec


@pytest.mark.parametrize(
    ("ref", "default_kind", "expected"),
    [
        ("payments", "system", EntityKey("system", "shop", "payments")),
        ("system:payments", "system", EntityKey("system", "shop", "payments")),
        ("api:platform/auth-api", "api", EntityKey("api", "platform", "auth-api")),
        ("Group:payments-team", None, EntityKey("group", "shop", "payments-team")),
        ("user:default/jane.doe", None, EntityKey("user", "default", "jane.doe")),
    ],
)
def test_parse_ref_fills_defaults(ref: str, default_kind: str | None, expected: EntityKey) -> None:
    assert parse_ref(ref, default_kind=default_kind, default_namespace="shop") == expected


@pytest.mark.parametrize("ref", ["", "a b", "kind:", "ns/", "Bad_NS/x", "x!"])
def test_parse_ref_rejects_malformed(ref: str) -> None:
    with pytest.raises(InvalidRef):
        parse_ref(ref, default_kind="component", default_namespace="shop")


def test_parse_ref_needs_a_kind_where_there_is_no_default() -> None:
    with pytest.raises(InvalidRef, match="needs a kind"):
        parse_ref("payments-team", default_kind=None, default_namespace="shop")


def test_component_edges_cover_every_reference_field() -> None:
    spec = ComponentSpec.model_validate(
        {
            "type": "service",
            "lifecycle": "production",
            "owner": "group:team",
            "system": "payments",
            "subcomponentOf": "platform/base",
            "providesApis": ["checkout-api"],
            "consumesApis": ["platform/auth-api"],
            "dependsOn": ["component:ledger", "resource:db"],
            "scaffold": {"templateRef": {"name": "python", "namespace": "platform"}},
        }
    )
    me = EntityKey("component", "shop", "checkout")
    edges, errors = outgoing_edges(me, spec)
    assert errors == ()
    assert {(e.type, str(e.target)) for e in edges} == {
        ("ownedBy", "group:shop/team"),
        ("partOf", "system:shop/payments"),
        ("subcomponentOf", "component:platform/base"),
        ("providesApi", "api:shop/checkout-api"),
        ("consumesApi", "api:platform/auth-api"),
        ("dependsOn", "component:shop/ledger"),
        ("dependsOn", "resource:shop/db"),
        ("scaffoldedFrom", "template:platform/python"),
    }


def test_relations_are_listed_both_ways() -> None:
    api = EntityKey("api", "shop", "checkout-api")
    svc = EntityKey("component", "shop", "checkout")
    web = EntityKey("component", "shop", "web")
    owner = EntityKey("group", "shop", "team")
    own = (Edge("ownedBy", api, owner),)
    incoming = [Edge("providesApi", svc, api), Edge("consumesApi", web, api)]
    assert relations_of(api, own, incoming) == [
        ("apiConsumedBy", "component:shop/web"),
        ("apiProvidedBy", "component:shop/checkout"),
        ("ownedBy", "group:shop/team"),
    ]


def test_every_relation_type_has_an_inverse_that_is_not_itself() -> None:
    assert all(a != b for a, b in INVERSE.items())
    assert len(set(INVERSE.values())) == len(INVERSE)


def test_system_domain_is_a_part_of_relation() -> None:
    spec = SystemSpec.model_validate({"owner": "group:team", "domain": "commerce"})
    edges, _ = outgoing_edges(EntityKey("system", "shop", "payments"), spec)
    assert ("partOf", "domain:shop/commerce") in {(e.type, str(e.target)) for e in edges}
