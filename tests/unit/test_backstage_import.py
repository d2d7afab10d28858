"""`portico import` on the project's Backstage corpus (tests/corpus/backstage): what converts,
how names and references map, what is kept as a reference, what is refused and why, and
that export gives the same catalog back."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from portico.cli import main
from portico.clients.descriptors import DescriptorReader
from portico.domain.backstage.context import ImportContext
from portico.domain.backstage.export import export_catalog
from portico.domain.backstage.importer import ImportResult, import_descriptors
from portico.domain.backstage.locations import collect
from portico.domain.backstage.names import kube_name
from portico.models.kinds import kind_info
from support.backstage_meaning import catalog_meaning, key, lost_annotations

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "backstage"
ROOT_FILE = str(CORPUS / "catalog-info.yaml")
INVALID_FILE = str(CORPUS / "invalid" / "catalog-info.yaml")


def read(source: str) -> tuple[list[dict[str, Any]], DescriptorReader, Any]:
    reader = DescriptorReader([source])
    collected = collect([source], reader)
    return [d.entity for d in collected.descriptors], reader, collected


def imported(namespace: str = "default", source: str = ROOT_FILE) -> ImportResult:
    _, reader, collected = read(source)
    assert not collected.problems, collected.problems
    return import_descriptors(collected.descriptors, ImportContext(namespace), reader.read_tree)


def by_name(result: ImportResult) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m["kind"], m["metadata"]["name"]): m for m in result.manifests}


def test_the_corpus_converts_completely_and_every_manifest_is_a_valid_spec() -> None:
    result = imported("payments")
    assert result.problems == []
    assert dict(result.converted) == {"Component": 3, "API": 3, "System": 2, "Template": 1}
    assert sorted(result.reference_only) == [
        "domain:default/commerce",
        "group:default/team-payments",
        "group:shared-services/Platform_Team",
        "resource:default/payments-db",
        "user:default/jane.doe",
    ]
    for manifest in result.manifests:
        if manifest["kind"] in ("Component", "API", "System", "Template"):
            kind_info(manifest["kind"]).spec.model_validate(manifest["spec"])


def test_names_map_deterministically_and_every_reference_follows() -> None:
    result = imported("payments")
    manifests = by_name(result)
    platform = kube_name("Payments_Platform")
    assert platform.startswith("payments-platform-")
    assert platform == kube_name("payments_platform")  # Backstage: names are case-insensitive
    system = manifests[("System", platform)]
    assert system["metadata"]["annotations"]["portico.dev/backstage-name"] == "Payments_Platform"
    assert system["metadata"]["annotations"]["portico.dev/backstage-namespace"] == "default"
    web = manifests[("Component", "checkoutweb")]  # case alone: lower-cased, no digest
    assert web["metadata"]["annotations"]["portico.dev/backstage-name"] == "CheckoutWeb"
    assert web["spec"]["system"] == platform  # written `payments_platform` in the corpus
    assert web["spec"]["owner"] == "group:team-payments"  # default/ was payments' default
    checkout = manifests[("Component", "checkout")]
    assert checkout["metadata"]["namespace"] == "payments"
    assert checkout["spec"]["system"] == platform
    assert checkout["spec"]["consumesApis"] == [
        kube_name("Ledger.Events"),
        "shared-services/auth-api",
    ]
    assert checkout["spec"]["dependsOn"] == [
        f"component:{kube_name('Ledger_Service')}",
        "resource:payments-db",
    ]
    auth = manifests[("API", "auth-api")]
    assert auth["metadata"]["namespace"] == "shared-services"  # a named namespace stays
    assert auth["spec"]["owner"] == "group:Platform_Team"  # not served: the name is kept
    assert result.dangling == []


def test_metadata_and_placeholders_survive() -> None:
    manifests = by_name(imported())
    checkout = manifests[("Component", "checkout")]
    assert checkout["spec"]["title"] == "Checkout service"
    assert checkout["spec"]["tags"] == ["python", "c++"]
    assert checkout["metadata"]["labels"] == {
        "acme.com/tier": "1",
        "acme.com/cost-center": "cc-4711",
    }
    assert [link["title"] for link in checkout["spec"]["links"]] == ["Dashboard", "Runbook"]
    assert checkout["metadata"]["annotations"]["backstage.io/techdocs-ref"] == "dir:."
    api = manifests[("API", "checkout-api")]
    assert api["spec"]["definition"] == (CORPUS / "apis" / "openapi.yaml").read_text()
    assert api["spec"]["description"] == "Checkout: take an order and charge for it.\n"


def test_export_gives_the_same_catalog_back() -> None:
    before, _, _ = read(ROOT_FILE)
    result = imported("team-a")
    after = export_catalog(result.manifests)
    assert catalog_meaning(after) == catalog_meaning(before)
    exported = {key(e): e for e in after}
    for entity in before:
        if key(entity) in exported:
            assert lost_annotations(entity, exported[key(entity)]) == {}


def test_each_invalid_entity_is_named_with_its_field() -> None:
    _, reader, collected = read(INVALID_FILE)
    result = import_descriptors(collected.descriptors, ImportContext(), reader.read_tree)
    problems = collected.problems + result.problems
    named = {(p.entity, p.field) for p in problems}
    assert ("component:default/beta-service", "spec.lifecycle") in named
    assert ("api:default/trpc-api", "spec.type") in named
    assert ("component:default/ownerless", "spec.owner") in named
    assert ("component:default/bad-tag", "metadata.tags[0]") in named
    assert ("widget:default/gadget", "kind") in named
    assert any(p.field == "metadata.name" and "Bad Name" in p.message for p in problems)
    assert any(p.field == "spec.definition" and "lost-definition" in p.entity for p in problems)
    assert all(p.source.endswith("invalid/catalog-info.yaml") for p in problems)
    assert [m["metadata"]["name"] for m in result.manifests] == ["good-one"]
    lost = [p for p in problems if p.entity == "api:default/lost-definition"]
    assert [p.field for p in lost] == ["spec.definition", "spec.definition"]
    assert "no-such-file.yaml" in lost[0].message  # the reader's line, then the converter's
    assert "could not be resolved" in lost[1].message
    assert result.broken == [
        "component:default/good-one: spec.consumesApis[0] -> api:default/trpc-api"
    ]
    assert result.dangling == []
    assert result.unsupported == []  # nothing is listed for entities that failed


def test_cli_writes_nothing_on_a_problem_unless_told_to_skip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["import", INVALID_FILE, "-o", str(out)]) == 1
    assert not out.exists()
    assert "nothing written" in capsys.readouterr().err
    assert main(["import", INVALID_FILE, "-o", str(out), "--skip-invalid"]) == 0
    assert [p.name for p in out.iterdir()] == ["component.default.good-one.yaml"]


def test_cli_writes_one_file_per_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(CORPUS), "-n", "payments", "-o", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "component.payments.checkout.yaml" in names
    assert "api.shared-services.auth-api.yaml" in names
    assert len(names) == 9
    err = capsys.readouterr().err
    assert "converted: 3 API, 3 Component, 2 System, 1 Template" in err
    docs = [yaml.safe_load(p.read_text()) for p in tmp_path.iterdir()]
    assert all(d["metadata"]["namespace"] in ("payments", "shared-services") for d in docs)


def _one(tmp_path: Path, text: str, namespace: str = "default") -> ImportResult:
    (tmp_path / "catalog-info.yaml").write_text(text)
    source = str(tmp_path / "catalog-info.yaml")
    reader = DescriptorReader([source])
    collected = collect([source], reader)
    assert not collected.problems, collected.problems
    return import_descriptors(collected.descriptors, ImportContext(namespace), reader.read_tree)


COMPONENT = """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc
  {extra}
spec: {{type: service, lifecycle: production, owner: team-a}}
"""


def test_n_that_is_also_a_backstage_namespace_is_refused() -> None:
    """-n shared-services would merge Backstage's default into the corpus's shared-services."""
    result = imported("shared-services")
    [problem] = result.problems
    assert problem.field == "metadata.namespace"
    assert "choose another -n" in problem.message
    assert result.manifests == []


def test_mapping_annotations_in_a_descriptor_are_not_trusted(tmp_path: Path) -> None:
    """Only import writes portico.dev/backstage-*: export reads them back as the identity."""
    forged = (
        "annotations: {portico.dev/backstage-name: checkout, "
        "portico.dev/backstage-namespace: payments}"
    )
    result = _one(tmp_path, COMPONENT.format(extra=forged))
    [manifest] = result.manifests
    assert "annotations" not in manifest["metadata"]
    assert export_catalog(result.manifests)[0]["metadata"]["name"] == "svc"


def test_what_the_api_server_would_refuse_is_a_problem_naming_the_field(tmp_path: Path) -> None:
    result = _one(tmp_path, COMPONENT.format(extra="title: " + "x" * 300))
    assert [p.field for p in result.problems] == ["metadata.title"]
    assert result.manifests == []


def test_kinds_are_case_sensitive_as_in_backstage(tmp_path: Path) -> None:
    result = _one(
        tmp_path, COMPONENT.format(extra="").replace("kind: Component", "kind: component")
    )
    assert [(p.field, p.entity) for p in result.problems] == [("kind", "component:default/svc")]


def test_a_reference_outside_the_import_exports_as_backstage_wrote_it(tmp_path: Path) -> None:
    """Only checkout is imported; its System and dependency live elsewhere in Backstage."""
    text = COMPONENT.format(extra="").replace(
        "owner: team-a}", "owner: team-a, system: My_Sys, dependsOn: [component:other/Big_One]}"
    )
    result = _one(tmp_path, text, namespace="team-a")
    [manifest] = result.manifests
    assert manifest["spec"]["system"] == kube_name("My_Sys")
    [entity] = export_catalog(result.manifests)
    assert entity["spec"]["system"] == "My_Sys"
    assert entity["spec"]["dependsOn"] == ["component:other/Big_One"]
    assert "portico.dev/backstage-refs" not in entity["metadata"].get("annotations", {})
