"""Backstage interop on a real API server: the corpus imports, `kubectl apply` accepts the
output as it is, everything resolves and becomes Ready, and both `portico export` and the
operator's /backstage/catalog-info.yaml give the same entities back, which Backstage's own
validators accept."""

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fakes.github import FakeGitHub
from portico.clients.descriptors import DescriptorReader
from portico.domain.backstage.locations import collect
from support.backstage import assert_valid_yaml
from support.backstage_meaning import catalog_meaning, key, lost_annotations
from support.kubectl import Kubectl
from support.operator import OperatorProcess
from support.poll import eventually

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus" / "backstage"
SECOND_NAMESPACE = "shared-services"  # the corpus's other Backstage namespace
PORTICO = Path(sys.executable).with_name("portico")

pytestmark = pytest.mark.usefixtures("operator")


@pytest.fixture
def shared_services(kubectl: Kubectl) -> Iterator[str]:
    kubectl.run("create", "namespace", SECOND_NAMESPACE)
    try:
        yield SECOND_NAMESPACE
    finally:
        kubectl.run("delete", "namespace", SECOND_NAMESPACE, "--wait=false")


def portico(*args: str, kubeconfig: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"KUBECONFIG": str(kubeconfig)} if kubeconfig else {}
    return subprocess.run(
        [str(PORTICO), *args], capture_output=True, text=True, env={**os.environ, **env}
    )


def corpus_entities() -> list[dict[str, Any]]:
    """The corpus as Backstage reads it: Locations followed, placeholders resolved."""
    source = str(CORPUS / "catalog-info.yaml")
    collected = collect([source], DescriptorReader([source]))
    assert not collected.problems, collected.problems
    return [d.entity for d in collected.descriptors]


def test_import_apply_export_round_trip(
    kubectl: Kubectl,
    namespace: str,
    shared_services: str,
    operator: OperatorProcess,
    tmp_path: Path,
) -> None:
    out = tmp_path / "manifests"
    imported = portico("import", str(CORPUS / "catalog-info.yaml"), "-n", namespace, "-o", str(out))
    assert imported.returncode == 0, imported.stderr
    assert "kept as references only (5" in imported.stderr  # 2 groups, a user, domain, resource
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 9, files  # 3 Components, 3 APIs, 2 Systems, 1 Template

    kubectl.run("apply", "-f", str(out))  # as it is

    for manifest in (yaml.safe_load(p.read_text()) for p in sorted(out.iterdir())):
        kind, meta = manifest["kind"].lower(), manifest["metadata"]
        for condition in ("RefsResolved", "Ready"):
            kubectl.run(
                "wait",
                f"{kind}/{meta['name']}",
                "-n",
                meta["namespace"],
                f"--for=condition={condition}",
                "--timeout=60s",
            )

    before = corpus_entities()
    exported = portico("export", kubeconfig=kubectl.kubeconfig)
    assert exported.returncode == 0, exported.stderr
    after = [e for e in yaml.safe_load_all(exported.stdout) if key(e) in catalog_meaning(before)]
    assert catalog_meaning(after) == catalog_meaning(before)
    by_key = {key(e): e for e in after}
    for entity in before:
        if key(entity) in by_key:
            assert lost_annotations(entity, by_key[key(entity)]) == {}, key(entity)
    assert_valid_yaml(exported.stdout)  # the whole file, as Backstage's catalog reads it

    # What Portico learned rides along: the Component's health, as an annotation.
    checkout = by_key["component:default/checkout"]
    assert checkout["metadata"]["annotations"]["portico.dev/health"]

    # The operator serves the same entities (built from its memory, within its 30 s cache).
    url = f"http://127.0.0.1:{operator.metrics_port}/backstage/catalog-info.yaml"

    def served() -> str:
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.headers["Content-Type"].startswith("application/yaml")
            text: str = response.read().decode()
        mine = [e for e in yaml.safe_load_all(text) if key(e) in catalog_meaning(before)]
        assert catalog_meaning(mine) == catalog_meaning(before)
        return text

    assert_valid_yaml(eventually(served, timeout=45))


def test_invalid_descriptors_are_named_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = portico("import", str(CORPUS / "invalid" / "catalog-info.yaml"), "-o", str(out))
    assert result.returncode == 1
    assert not out.exists()
    source = str(CORPUS / "invalid" / "catalog-info.yaml")
    for entity, field in [
        ("component:default/beta-service", "spec.lifecycle"),
        ("api:default/trpc-api", "spec.type"),
        ("component:default/ownerless", "spec.owner"),
        ("component:default/bad-tag", "metadata.tags[0]"),
        ("api:default/lost-definition", "spec.definition"),
        ("widget:default/gadget", "kind"),
    ]:
        assert f"{entity}: {field}:" in result.stderr, (entity, field, result.stderr)
        assert source in result.stderr
    assert "metadata.name" in result.stderr  # "Bad Name"

    skipped = portico(
        "import", str(CORPUS / "invalid" / "catalog-info.yaml"), "-o", str(out), "--skip-invalid"
    )
    assert skipped.returncode == 0, skipped.stderr
    assert [p.name for p in out.iterdir()] == ["component.default.good-one.yaml"]


def test_an_imported_backstage_template_scaffolds_a_repository(
    kubectl: Kubectl, namespace: str, github: FakeGitHub, tmp_path: Path
) -> None:
    """The corpus's scaffolder Template, converted, publishes what Backstage would have: the
    skeleton rendered with the form's values, its workflow copied without templating."""
    template = CORPUS / "templates" / "python-service" / "template.yaml"
    out = tmp_path / "manifests"
    imported = portico("import", str(template), "-n", namespace, "-o", str(out))
    assert imported.returncode == 0, imported.stderr
    kubectl.run("apply", "-f", str(out))
    kubectl.run(
        "wait",
        "template/python-service",
        "-n",
        namespace,
        "--for=condition=Valid",
        "--timeout=60s",
    )
    repo = f"billing-{namespace[2:]}"
    values = {
        "name": repo,
        "description": "Sends the invoices.",
        "owner": "group:team-payments",
        "repoUrl": f"github.com?owner=acme&repo={repo}",
    }
    kubectl.apply(
        json.dumps(
            {
                "apiVersion": "portico.dev/v1alpha1",
                "kind": "Component",
                "metadata": {"name": "billing"},
                "spec": {
                    "type": "service",
                    "lifecycle": "experimental",
                    "owner": "group:team-payments",
                    "scaffold": {"templateRef": {"name": "python-service"}, "values": values},
                },
            }
        ),
        namespace,
    )

    def scaffolded() -> None:
        condition = kubectl.condition("component", "billing", namespace, "Scaffolded")
        assert condition["status"] == "True", condition

    eventually(scaffolded, timeout=60)
    checkout = tmp_path / "checkout"
    subprocess.run(
        ["git", "clone", "-q", github.repo_path("acme", repo).as_uri(), str(checkout)], check=True
    )
    skeleton = template.parent / "skeleton"
    readme = (checkout / "README.md").read_text()
    assert readme.startswith(f"# {repo}\n\nSends the invoices.\n\nBuilt for Python 3.12.")
    assert "Metrics are served on `:8080/metrics`." in readme  # a boolean default, rendered
    deployment = yaml.safe_load((checkout / "deploy" / f"{repo}.yaml").read_text())
    assert deployment["metadata"]["name"] == repo
    workflow = ".github/workflows/ci.yaml"
    assert (checkout / workflow).read_text() == (skeleton / workflow).read_text()  # verbatim
    notes = (skeleton / "deploy" / "NOTES.txt").read_text().replace("${{ values.name }}", repo)
    assert (checkout / "deploy" / "NOTES.txt").read_text() == notes  # Helm's {{ }} kept
