"""A second control plane with real Argo CD beside it (redis, repo-server,
application-controller, from hack/build-argocd.sh) and its own Portico, for the tests that
need Argo CD to act for real: sync, drift, prune, health.

Templates publish as in `make demo`: with no GitHub token, to local bare repositories
(github.fallbackGitUrl, file://), which Argo CD's repo-server clones like any remote.

It is separate from the session's main control plane, where tests play Argo CD by writing
Application status: a real controller would overwrite what those tests write.
"""

import json
import os
import subprocess
import tempfile
import threading
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
from support.poll import eventually
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


# --- For the tests of Argo CD at work (test_gitops_sync, _deletion, _guardrails) ------------


def push(url: str, files: dict[str, str | None], message: str, branch: str = "main") -> str:
    """Commit to a repository as a developer would (clone, edit, commit, push) and return the
    new commit. `files` maps a path to its new content, or to None to delete it."""
    with tempfile.TemporaryDirectory(prefix="portico-push-") as tmp:
        work = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", url, str(work)], check=True, capture_output=True)
        for path, content in files.items():
            if content is None:
                (work / path).unlink()
            else:
                (work / path).parent.mkdir(parents=True, exist_ok=True)
                (work / path).write_text(content)
        identity = ["-c", "user.name=A Developer", "-c", "user.email=dev@example.invalid"]
        for args in (["add", "-A"], [*identity, "commit", "-q", "-m", message]):
            subprocess.run(["git", "-C", str(work), *args], check=True, capture_output=True)
        subprocess.run(
            ["git", "-C", str(work), "push", "-q", "origin", f"HEAD:{branch}"],
            check=True,
            capture_output=True,
        )
        head = subprocess.run(
            ["git", "-C", str(work), "rev-parse", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        )
        return head.stdout.strip()


def refresh(kubectl: Kubectl, application: str) -> None:
    """Ask Argo CD to look at git now, as a push webhook does (instead of the next resync)."""
    kubectl.run(
        "annotate", "application", application, "-n", ARGOCD_NAMESPACE,
        "argocd.argoproj.io/refresh=normal", "--overwrite",
    )  # fmt: skip


class Watch:
    """`kubectl get --watch` in the background: every state of the watched objects, in the
    order the API server sent them, as (event type, object). A state that lasts less than a
    second (OutOfSync between a drift and its heal) is recorded, where a poll could miss it.

        with Watch(kubectl, "component", "web", "-n", ns) as watch:
            watch.started()
            ...
        watch.objects()
    """

    def __init__(self, kubectl: Kubectl, *args: str) -> None:
        self._argv = [
            str(kubectl.binary), "--kubeconfig", str(kubectl.kubeconfig), "get", *args,
            "--watch", "--output-watch-events", "-o", "json",
        ]  # fmt: skip
        self._events: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __exit__)
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> "Watch":
        self._proc = subprocess.Popen(
            self._argv, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        self._reader = threading.Thread(target=self._read, args=(self._proc,), daemon=True)
        self._reader.start()
        return self

    def _read(self, proc: "subprocess.Popen[str]") -> None:
        assert proc.stdout is not None
        for line in proc.stdout:  # one JSON event a line
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                self._events.append((event["type"], event["object"]))

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            if self._reader is not None:
                self._reader.join(timeout=10)
            assert self._proc.stdout is not None
            self._proc.stdout.close()
        self._stderr.close()

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return list(self._events)

    def objects(self) -> list[dict[str, Any]]:
        return [obj for _, obj in self.events()]

    def started(self, timeout: float = 15) -> None:
        """Wait for the watch's first event (the object as it is now): from then on, no
        change can slip by unrecorded."""

        def first() -> None:
            if not self.events():
                self._stderr.seek(0)
                raise AssertionError(f"no watch event yet: {self._stderr.read().decode()}")

        eventually(first, timeout=timeout)

    def deleted_at(self) -> int | None:
        """The resourceVersion of the (first) object's deletion, if the watch saw it. One
        etcd orders every write of this control plane, so these compare across kinds."""
        for kind, obj in self.events():
            if kind == "DELETED":
                return int(obj["metadata"]["resourceVersion"])
        return None


def changes(values: list[str]) -> list[str]:
    """Successive distinct values: [a, a, b, b, a] -> [a, b, a]."""
    out: list[str] = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return out
