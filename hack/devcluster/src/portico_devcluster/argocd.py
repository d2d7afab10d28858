"""Real Argo CD beside the local control plane: redis-server, the repo-server and the
application-controller, from the one multicall binary that hack/build-argocd.sh caches.

What an admin would install comes from Argo CD's own manifests/install.yaml (copied next to
the binary): its CRDs, ConfigMaps and Secrets in namespace `argocd`, and nothing that would
run as a pod (the components run here as processes instead, with ARGOCD_FAKE_IN_CLUSTER so
that `https://kubernetes.default.svc` means this control plane). An `argocd-cm` patch file
(Portico's health checks, deploy/argocd/argocd-cm-patch.yaml) is applied the way an admin
would: `kubectl patch configmap argocd-cm --patch-file`.
"""

import os
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from portico_devcluster.processes import free_port, log_tail, spawn, stop_all, wait_port

NAMESPACE = "argocd"
INSTALLED_KINDS = ("CustomResourceDefinition", "ConfigMap", "Secret")


class ArgoCDError(RuntimeError):
    """Argo CD did not start; the message says which process and why."""


def install_objects(install_yaml: Path) -> list[dict[str, Any]]:
    """CRDs, ConfigMaps and Secrets of Argo CD's install.yaml (no workloads, no RBAC)."""
    docs = [d for d in yaml.safe_load_all(install_yaml.read_text()) if d]
    return [d for d in docs if d.get("kind") in INSTALLED_KINDS]


def default_project() -> dict[str, Any]:
    """The `default` AppProject argocd-server would create (no API server runs here)."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "default", "namespace": NAMESPACE},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"namespace": "*", "server": "*"}],
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
        },
    }


@dataclass
class LocalArgoCD:
    bin_dir: Path  # hack/build-argocd.sh's output: argocd, its role symlinks, install.yaml
    state_dir: Path
    kubeconfig: Path
    kubectl: str
    detach: bool = False
    cm_patch: Path | None = None
    resync_seconds: int = 20  # how often Argo CD looks at git without a webhook
    api_server: bool = False  # argocd-server too, for the `argocd` CLI (no UI, no auth)
    server_port: int = field(default_factory=free_port)
    server_metrics_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    repo_port: int = field(default_factory=free_port)
    repo_metrics_port: int = field(default_factory=free_port)
    controller_metrics_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.state_dir / "argocd"

    def binary(self, name: str) -> str:
        path = self.bin_dir / name
        if not path.exists():
            raise ArgoCDError(f"{path} is missing: run hack/build-argocd.sh")
        return str(path)

    def _kubectl(self, *args: str, stdin: str | None = None) -> str:
        out = subprocess.run(
            [self.kubectl, "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise ArgoCDError(f"kubectl {' '.join(args[:3])}: {out.stderr.strip()}")
        return out.stdout

    def _env(self, role: str) -> dict[str, str]:
        home = self.home
        return {
            **os.environ,
            "PATH": f"{self.bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "KUBECONFIG": str(self.kubeconfig),
            "ARGOCD_BINARY_NAME": role,
            "ARGOCD_FAKE_IN_CLUSTER": "true",
            "ARGOCD_GPG_ENABLED": "false",
            # How often Argo CD compares with git (controller) and how long the repo-server
            # trusts a branch's resolved commit: with no webhook, a push shows up after this.
            "ARGOCD_RECONCILIATION_TIMEOUT": f"{self.resync_seconds}s",
            "ARGOCD_TLS_DATA_PATH": str(home / "tls"),
            "ARGOCD_SSH_DATA_PATH": str(home / "ssh"),
            "ARGOCD_GNUPGHOME": str(home / "gpg"),
            "TMPDIR": str(home / f"tmp-{role}"),
            "HOME": str(home),
        }

    def install(self) -> None:
        """Namespace, CRDs, ConfigMaps, Secrets, the default AppProject, the argocd-cm patch."""
        objects = install_objects(Path(self.binary("install.yaml")))
        manifest = {
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
                *objects,
            ],
        }
        self._kubectl(
            "apply", "--server-side", "-n", NAMESPACE, "-f", "-", stdin=yaml.safe_dump(manifest)
        )
        for _ in range(60):  # the AppProject CRD must be served before its first object
            try:
                self._kubectl(
                    "wait",
                    "--for=condition=Established",
                    "--timeout=10s",
                    "crd/appprojects.argoproj.io",
                    "crd/applications.argoproj.io",
                )
                break
            except ArgoCDError:
                time.sleep(0.5)
        self._kubectl("apply", "-f", "-", stdin=yaml.safe_dump(default_project()))
        if self.cm_patch is not None:
            self._kubectl(
                "-n",
                NAMESPACE,
                "patch",
                "configmap",
                "argocd-cm",
                "--patch-file",
                str(self.cm_patch),
            )

    def start(self, timeout: float = 90.0) -> "LocalArgoCD":
        for sub in (
            "tls",
            "ssh",
            "gpg",
            "tmp-argocd-repo-server",
            "tmp-argocd-application-controller",
        ):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        try:
            self.install()
            self._start_redis(deadline)
            self._start_repo_server(deadline)
            self._start_controller(deadline)
            if self.api_server:
                self._start_api_server(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        self.processes[name] = spawn(
            name, args, state_dir=self.state_dir, detach=self.detach, env=env, cwd=self.home
        )

    def _wait(self, name: str, port: int, deadline: float) -> None:
        try:
            wait_port(port, deadline=deadline, alive=self.processes[name], what=name)
        except (RuntimeError, TimeoutError) as e:
            raise ArgoCDError(f"{e}:\n{log_tail(self.state_dir, name)}") from e

    def _start_redis(self, deadline: float) -> None:
        redis = shutil.which("redis-server")
        if redis is None:
            raise ArgoCDError("redis-server is missing: apt-get install redis-server")
        self._spawn(
            "redis",
            [
                redis,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.home),
            ],
        )
        self._wait("redis", self.redis_port, deadline)

    def _start_repo_server(self, deadline: float) -> None:
        self._spawn(
            "argocd-repo-server",
            [
                self.binary("argocd-repo-server"),
                "--address",
                "127.0.0.1",
                "--port",
                str(self.repo_port),
                "--metrics-address",
                "127.0.0.1",
                "--metrics-port",
                str(self.repo_metrics_port),
                "--redis",
                f"127.0.0.1:{self.redis_port}",
                "--logformat",
                "text",
                "--loglevel",
                "info",
            ],
            self._env("argocd-repo-server"),
        )
        self._wait("argocd-repo-server", self.repo_port, deadline)

    def _start_controller(self, deadline: float) -> None:
        self._spawn(
            "argocd-application-controller",
            [
                self.binary("argocd-application-controller"),
                "--kubeconfig",
                str(self.kubeconfig),
                "--namespace",
                NAMESPACE,
                "--redis",
                f"127.0.0.1:{self.redis_port}",
                "--repo-server",
                f"127.0.0.1:{self.repo_port}",
                "--metrics-port",
                str(self.controller_metrics_port),
                "--app-resync",
                str(self.resync_seconds),
                "--self-heal-backoff-timeout-seconds",
                "1",
                # Each resource's health in the Application's status, as before v3, so that
                # `kubectl get application -o yaml` shows what Portico's Lua checks said.
                "--persist-resource-health",
                "--logformat",
                "text",
                "--loglevel",
                "info",
            ],
            self._env("argocd-application-controller"),
        )
        name = "argocd-application-controller"
        url = f"http://127.0.0.1:{self.controller_metrics_port}/healthz"
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise ArgoCDError(f"{name} exited:\n{log_tail(self.state_dir, name)}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise ArgoCDError(f"{name} not healthy at {url}:\n{log_tail(self.state_dir, name)}")

    def _start_api_server(self, deadline: float) -> None:
        """argocd-server on loopback, plaintext and without auth: for the CLI on this machine
        (`argocd --server 127.0.0.1:<port> --plaintext --auth-token none app list`)."""
        self._spawn(
            "argocd-server",
            [
                self.binary("argocd-server"),
                "--kubeconfig",
                str(self.kubeconfig),
                "--namespace",
                NAMESPACE,
                "--address",
                "127.0.0.1",
                "--port",
                str(self.server_port),
                "--metrics-address",
                "127.0.0.1",
                "--metrics-port",
                str(self.server_metrics_port),
                "--insecure",
                "--disable-auth",
                "--redis",
                f"127.0.0.1:{self.redis_port}",
                "--repo-server",
                f"127.0.0.1:{self.repo_port}",
                "--logformat",
                "text",
            ],
            self._env("argocd-server"),
        )
        self._wait("argocd-server", self.server_port, deadline)

    def cli_args(self) -> list[str]:
        """What the `argocd` CLI needs to talk to the API server started here."""
        return ["--server", f"127.0.0.1:{self.server_port}", "--plaintext", "--auth-token", "none"]

    def stop(self) -> None:
        stop_all(self.state_dir, self.processes)
