"""The install (deploy/) on a real API server: it applies, install.yaml is current, and the
ServiceAccount's RBAC is both sufficient (the whole e2e session runs the operator as it)
and small (what it must not do, it cannot)."""

import json
import signal
import time
from pathlib import Path

import pytest
import yaml

from portico_devcluster.cluster import LocalCluster
from support.audit import events, flush_marker
from support.kubectl import Kubectl
from support.operator import OperatorProcess
from support.poll import eventually

ROOT = Path(__file__).resolve().parents[2]
SA = "system:serviceaccount:portico-system:portico"

pytestmark = pytest.mark.usefixtures("operator")


def can_i(kubectl: Kubectl, *args: str) -> bool:
    """kubectl's answer, and only a real one: `yes` with exit 0 or `no` with exit 1. Anything
    else (a typo in the resource, an unreachable server, a failed impersonation) fails the
    test with kubectl's output instead of reading as "cannot"."""
    result = kubectl.run("auth", "can-i", *args, f"--as={SA}", check=False)
    answer = result.stdout.strip()
    if (result.returncode, answer) == (0, "yes"):
        return True
    if (result.returncode, answer) == (1, "no"):
        return False
    raise AssertionError(
        f"kubectl auth can-i {' '.join(args)} gave no answer (exit {result.returncode}):\n"
        f"stdout: {result.stdout!r}\nstderr: {result.stderr!r}"
    )


def test_install_yaml_is_what_the_kustomization_renders(kubectl: Kubectl) -> None:
    rendered = kubectl.run("kustomize", str(ROOT / "deploy")).stdout
    assert (ROOT / "deploy" / "install.yaml").read_text() == rendered, "run `make manifests`"


def test_deploy_applies_and_the_documented_crd_path_still_works(kubectl: Kubectl) -> None:
    # The session installed deploy/ already; re-check it applies cleanly without resetting
    # the session's configuration (the GitHub fake's URL lives in portico-config).
    kubectl.run(
        "apply",
        "--server-side",
        "--force-conflicts",
        "--dry-run=server",
        "-k",
        str(ROOT / "deploy"),
    )
    kubectl.run("apply", "-f", str(ROOT / "crds"))
    deployment = kubectl.get("deployment", "portico", "portico-system")
    assert deployment is not None
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}


@pytest.mark.parametrize(
    "args",
    [
        ("list", "secrets", "-n", "default"),
        ("get", "secrets", "-n", "kube-system"),
        ("get", "secrets/some-other-secret", "-n", "portico-system"),
        ("delete", "namespaces"),
        ("create", "pods/exec", "-n", "default"),
        ("create", "pods", "-n", "default"),
        ("update", "components.portico.dev", "-n", "default"),
        ("delete", "components.portico.dev", "-n", "default"),
        ("*", "*"),
        ("create", "clusterrolebindings"),
    ],
)
def test_the_operator_cannot(kubectl: Kubectl, args: tuple[str, ...]) -> None:
    assert not can_i(kubectl, *args)


@pytest.mark.parametrize(
    "args",
    [
        ("get", "secrets/portico-github-token", "-n", "portico-system"),
        ("patch", "components.portico.dev", "--subresource=status", "-n", "default"),
        ("watch", "deployments.apps", "--all-namespaces"),
        ("create", "events.events.k8s.io", "-n", "default"),
    ],
)
def test_the_operator_can(kubectl: Kubectl, args: tuple[str, ...]) -> None:
    assert can_i(kubectl, *args)


def test_no_rule_uses_a_wildcard() -> None:
    for path in (ROOT / "deploy" / "rbac").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        for rule in doc.get("rules", []):
            for field in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule.get(field, []), f"{path.name}: {rule}"


def test_the_session_operator_really_runs_as_the_service_account(
    kubectl: Kubectl, cluster: LocalCluster, namespace: str
) -> None:
    kubectl.apply(
        '{"apiVersion": "portico.dev/v1alpha1", "kind": "System", "metadata": {"name": "s"},'
        ' "spec": {"owner": "group:team"}}',
        namespace,
    )
    kubectl.run("wait", "system/s", "-n", namespace, "--for=condition=Ready", "--timeout=20s")
    flush_marker(kubectl, cluster.audit_log, namespace)
    users = {
        e.get("user", {}).get("username")
        for e in events(cluster.audit_log)
        if e.get("userAgent", "").startswith("portico")
    }
    assert users == {SA}, users


def test_containerfile_runs_portico_as_a_numeric_non_root_user() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "Containerfile").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users, "no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0
    assert 'ENTRYPOINT ["portico"]' in lines
    assert lines[-1] == 'CMD ["run"]'
    assert sum(1 for line in lines if line.startswith("FROM ")) == 2  # multi-stage


def test_two_peered_replicas_one_active_and_failover(
    kubectl: Kubectl, cluster: LocalCluster, namespace: str, operator: OperatorProcess
) -> None:
    """Two replicas with kopf peering: exactly one writes; SIGKILL it and the other takes
    over once the dead peer's lifetime (4 s here, 60 s by default) has passed."""
    operator.stop()  # the session's standalone operator would not take part in peering
    env = {"PORTICO_PEERING": "portico-ha-test", "PORTICO_PEERING_LIFETIME": "4"}
    replicas = [
        OperatorProcess(operator.kubeconfig, cluster.state_dir / f"replica-{i}.log", env, ("-v",))
        for i in range(2)
    ]
    try:
        for replica in replicas:
            replica.start()

        def system(name: str) -> str:
            return json.dumps(
                {
                    "apiVersion": "portico.dev/v1alpha1",
                    "kind": "System",
                    "metadata": {"name": name},
                    "spec": {"owner": "group:team"},
                }
            )

        def writers(name: str) -> list[int]:
            line = f"system:{namespace}/{name}: status patched"
            return [i for i, r in enumerate(replicas) if line in r.log()]

        kubectl.apply(system("first"), namespace)
        kubectl.run(
            "wait", "system/first", "-n", namespace, "--for=condition=Ready", "--timeout=30s"
        )

        def one_writer(name: str) -> list[int]:
            found = writers(name)
            assert len(found) == 1, f"exactly one replica must have written {name}: {found}"
            return found

        active = eventually(lambda: one_writer("first"))[0]
        replicas[active].stop(signal.SIGKILL)
        started = time.monotonic()
        kubectl.apply(system("second"), namespace)
        kubectl.run(
            "wait", "system/second", "-n", namespace, "--for=condition=Ready", "--timeout=60s"
        )
        print(f"\nfailover: the standby wrote after {time.monotonic() - started:.1f}s")
        assert eventually(lambda: one_writer("second")) == [1 - active]
    finally:
        for replica in replicas:
            replica.stop()
        operator.start()
