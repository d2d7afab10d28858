"""Argo CD's own CRDs (Application, AppProject) in the test control plane, installed once."""

import subprocess
from pathlib import Path

from support.kubectl import Kubectl
from support.poll import eventually

ROOT = Path(__file__).resolve().parents[2]


def argo_crds() -> list[Path]:
    """Argo CD's Application and AppProject CRDs: ../shared/argocd/ if present, else the
    argo-cd Go module's copies (hack/argocd-crd.sh prints their directory)."""
    out = subprocess.run(
        [str(ROOT / "hack" / "argocd-crd.sh")],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    where = Path(out.stdout.strip().splitlines()[-1])
    return [where / "application-crd.yaml", where / "appproject-crd.yaml"]


def install_argo_crds(kubectl: Kubectl) -> None:
    kubectl.run("create", "namespace", "argocd", check=False)
    for crd in argo_crds():
        kubectl.run("apply", "--server-side", "-f", str(crd))
        kubectl.wait_established(crd)
    # Established is not yet served by discovery everywhere: wait until kubectl can use both.
    eventually(lambda: _served(kubectl), timeout=30)


def _served(kubectl: Kubectl) -> None:
    found = kubectl.run("get", "applications,appprojects", "-A", check=False)
    assert found.returncode == 0, found.stderr
