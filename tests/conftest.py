"""Fixtures: a real control plane (etcd + kube-apiserver) and the operator, per session.

Unit tests under tests/unit need none of this; tests under tests/e2e are marked `cluster`
and share one control plane and one operator process; each test works in its own namespace.
"""

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.github import FakeGitHub
from fakes.grafana import FakeGrafana
from portico_devcluster.cluster import LocalCluster, free_port
from support.config import EXAMPLES, TRUSTED, write_config
from support.gitops import GitOpsStack, gitops_stack
from support.kubectl import Kubectl
from support.operator import OperatorProcess
from support.serviceaccount import service_account_kubeconfig

ROOT = Path(__file__).resolve().parent.parent
_versions: list[str] = []


def _bin_dir() -> Path:
    if os.environ.get("PORTICO_BIN_DIR"):
        return Path(os.environ["PORTICO_BIN_DIR"])
    out = subprocess.run(
        [str(ROOT / "hack" / "build-binaries.sh")], check=True, capture_output=True, text=True
    )
    return Path(out.stdout.strip().splitlines()[-1])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.cluster)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _versions:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[LocalCluster]:
    state = tmp_path_factory.mktemp("control-plane")
    local = LocalCluster(bin_dir=_bin_dir(), state_dir=state, workloads=True)
    local.start()
    try:
        line = f"control plane: kube-apiserver {local.version()} at {local.server} ({state})"
        _versions.append(line)
        reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"\n{line}")
        kubectl = Kubectl(local.bin_dir / "kubectl", local.kubeconfig)
        # The install as a cluster admin would do it: CRDs, RBAC, the operator's Deployment
        # (whose pods KWOK only pretends to run).
        kubectl.run("apply", "--server-side", "-k", str(ROOT / "deploy"))
        kubectl.wait_established(ROOT / "crds")
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def kubectl(cluster: LocalCluster) -> Kubectl:
    return Kubectl(cluster.bin_dir / "kubectl", cluster.kubeconfig)


@pytest.fixture(scope="session")
def grafana(cluster: LocalCluster) -> Iterator[FakeGrafana]:
    """A Grafana contract fake for the session (its token in portico-grafana-token)."""
    kubectl = Kubectl(cluster.bin_dir / "kubectl", cluster.kubeconfig)
    with FakeGrafana() as fake:
        kubectl.run(
            "create",
            "secret",
            "generic",
            "portico-grafana-token",
            "-n",
            "portico-system",
            f"--from-literal=token={fake.token}",
        )
        yield fake
    fake.assert_no_internal_errors()  # a bug in the fake must not pass for a healed outage


@pytest.fixture(scope="session")
def github(cluster: LocalCluster, grafana: FakeGrafana) -> Iterator[FakeGitHub]:
    """A GitHub contract fake for the whole session, configured as Portico's GitHub: the
    token Secret and `github.apiUrl` in the portico-config ConfigMap, as an admin would
    (Grafana's URL goes into the same configuration)."""
    kubectl = Kubectl(cluster.bin_dir / "kubectl", cluster.kubeconfig)
    with FakeGitHub(orgs=["acme", "platform"], user="portico-bot") as fake:
        kubectl.run(
            "create",
            "secret",
            "generic",
            "portico-github-token",
            "-n",
            "portico-system",
            f"--from-literal=token={fake.token}",
        )
        write_config(
            kubectl,
            {
                "argocd": {"namespace": "argocd"},
                "tenancy": {"allowFileUrls": True, "rules": [TRUSTED, EXAMPLES]},
                "github": {"apiUrl": fake.base_url, "throttle": False},
                "grafana": {"url": grafana.base_url},
            },
        )
        yield fake
    fake.assert_no_internal_errors()


@pytest.fixture(scope="session")
def operator(cluster: LocalCluster, github: FakeGitHub) -> Iterator[OperatorProcess]:
    # The operator runs as its ServiceAccount: every e2e test also proves the RBAC suffices.
    kubectl = Kubectl(cluster.bin_dir / "kubectl", cluster.kubeconfig)
    kubeconfig = service_account_kubeconfig(
        kubectl, "portico-system", "portico", cluster.state_dir / "portico-sa.kubeconfig"
    )
    verbose = ("-v",) if os.environ.get("PORTICO_E2E_VERBOSE") else ()
    metrics_port = free_port()
    proc = OperatorProcess(
        kubeconfig,
        cluster.state_dir / "operator.log",
        # The Backstage export is off by default; the session serves it (test_backstage).
        extra_env={"PORTICO_METRICS_PORT": str(metrics_port), "PORTICO_BACKSTAGE_EXPORT": "true"},
        extra_args=verbose,
    )
    proc.metrics_port = metrics_port
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
        errors = [
            line
            for line in proc.log().splitlines()
            if " ERROR " in line and "will retry" not in line
        ]
        assert not errors, "the operator logged errors:\n" + "\n".join(errors[:20])


@pytest.fixture
def namespace(kubectl: Kubectl) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubectl.run("create", "namespace", name)
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="session")
def gitops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitOpsStack]:
    """A second control plane with real Argo CD and its own Portico (support/gitops.py)."""
    with gitops_stack(tmp_path_factory.mktemp("gitops-plane")) as stack:
        yield stack
        errors = [
            line
            for line in stack.operator.log().splitlines()
            if " ERROR " in line and "will retry" not in line
        ]
        assert not errors, "the operator logged errors:\n" + "\n".join(errors[:20])


@pytest.fixture
def gitops_namespace(gitops: GitOpsStack) -> Iterator[str]:
    """A fresh t-* namespace on the GitOps control plane."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    gitops.kubectl.run("create", "namespace", name)
    yield name
    gitops.kubectl.run("delete", "namespace", name, "--wait=false", check=False)
