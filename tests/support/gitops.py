"""A second control plane with real Argo CD beside it (redis, repo-server,
application-controller, from hack/build-argocd.sh) and its own Portico, for the tests that
need Argo CD to act for real: sync, drift, prune, health.

Templates publish as in `make demo`: with no GitHub token, to local bare repositories
(github.fallbackGitUrl, file://), which Argo CD's repo-server clones like any remote.

It is separate from the session's main control plane, where tests play Argo CD by writing
Application status: a real controller would overwrite what those tests write.
"""

import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portico_devcluster.argocd import LocalArgoCD
from portico_devcluster.cluster import LocalCluster, free_port
from support.config import write_config
from support.kubectl import Kubectl
from support.operator import OperatorProcess
from support.serviceaccount import service_account_kubeconfig

ROOT = Path(__file__).resolve().parent.parent.parent
ARGOCD_NAMESPACE = "argocd"


def _built(env: str, script: str) -> Path:
    if os.environ.get(env):
        return Path(os.environ[env])
    out = subprocess.run([str(ROOT / "hack" / script)], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def bin_dir() -> Path:
    return _built("PORTICO_BIN_DIR", "build-binaries.sh")


def argocd_bin_dir() -> Path:
    return _built("PORTICO_ARGOCD_BIN_DIR", "build-argocd.sh")


@dataclass
class GitOpsStack:
    cluster: LocalCluster
    argocd: LocalArgoCD
    kubectl: Kubectl
    operator: OperatorProcess
    repos: Path  # where Templates publish: <repos>/<owner>/<name>.git

    @property
    def argocd_cli(self) -> Path:
        return self.argocd.bin_dir / "argocd"


# The tenancy policy of this stack: t-* namespaces publish to acme and deploy into
# themselves (tenancy.default); `gitops-*` namespaces are where catalogs are synced to.
POLICY = {
    "allowFileUrls": True,
    "rules": [{"namespaces": ["t-*"], "publish": {"githubOwners": ["acme"]}}],
}


@contextmanager
def gitops_stack(state: Path) -> Iterator[GitOpsStack]:
    with ExitStack() as stack:
        cluster = LocalCluster(bin_dir=bin_dir(), state_dir=state, workloads=True)
        cluster.start()
        stack.callback(cluster.stop)
        kubectl = Kubectl(cluster.bin_dir / "kubectl", cluster.kubeconfig)
        kubectl.run("apply", "--server-side", "-k", str(ROOT / "deploy"))
        kubectl.wait_established(ROOT / "crds")
        argocd = LocalArgoCD(
            bin_dir=argocd_bin_dir(),
            state_dir=state,
            kubeconfig=cluster.kubeconfig,
            kubectl=str(cluster.bin_dir / "kubectl"),
            cm_patch=ROOT / "deploy" / "argocd" / "argocd-cm-patch.yaml",
            resync_seconds=10,
        )
        argocd.start()
        stack.callback(argocd.stop)
        repos = state / "repos"
        write_config(
            kubectl,
            {
                "argocd": {"namespace": ARGOCD_NAMESPACE},
                "tenancy": POLICY,
                "github": {"fallbackGitUrl": f"file://{repos}/{{{{ owner }}}}/{{{{ name }}}}.git"},
            },
        )
        kubeconfig = service_account_kubeconfig(
            kubectl, "portico-system", "portico", state / "portico-sa.kubeconfig"
        )
        operator = OperatorProcess(
            kubeconfig,
            state / "operator.log",
            extra_env={"PORTICO_METRICS_PORT": str(free_port())},
        )
        operator.start()
        stack.callback(operator.stop)
        yield GitOpsStack(cluster, argocd, kubectl, operator, repos)


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ values.name }}
  labels: {app: {{ values.name }}}
spec:
  replicas: 2
  selector: {matchLabels: {app: {{ values.name }}}}
  template:
    metadata: {labels: {app: {{ values.name }}}}
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/{{ values.name }}:latest
"""


def service_template(name: str = "web-service") -> dict[str, Any]:
    """A golden path: README and deploy/deployment.yaml; deploys through Argo CD by default."""
    return {
        "apiVersion": "portico.dev/v1alpha1",
        "kind": "Template",
        "metadata": {"name": name},
        "spec": {
            "owner": "group:platform",
            "parameters": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string", "pattern": "^[a-z][a-z0-9-]+$"}},
            },
            "skeleton": {
                "files": [
                    {"path": "README.md", "content": "# {{ values.name }}\n"},
                    {"path": "deploy/deployment.yaml", "content": DEPLOYMENT},
                ]
            },
            "publish": {"github": {"owner": "acme", "repoName": "{{ values.name }}"}},
            "defaults": {"deploy": {"argocd": {"path": "deploy", "targetRevision": "main"}}},
        },
    }


def scaffolded_component(name: str, repo: str, template: str = "web-service") -> dict[str, Any]:
    """A Component scaffolded from service_template(); it deploys by the Template's defaults
    and observes the Deployment the repository holds."""
    return {
        "apiVersion": "portico.dev/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name},
        "spec": {
            "type": "service",
            "lifecycle": "experimental",
            "owner": "group:team",
            "scaffold": {"templateRef": {"name": template}, "values": {"name": repo}},
            "observe": {
                "kubernetes": {"selector": {"matchLabels": {"app": repo}}},
            },
        },
    }


def columns(kubectl: Kubectl, namespace: str, name: str) -> list[str]:
    """The Component's HEALTH and SYNC printer columns, as `kubectl get` shows them."""
    row = kubectl.run("get", "component", name, "-n", namespace, "--no-headers").stdout
    return row.split()[4:6]  # HEALTH, SYNC
