"""Start etcd and kube-apiserver on loopback, the way controller-runtime's envtest does.

Random free ports, generated certificates, RBAC authorization, a service-account signing
key, an admin kubeconfig, a wait on /readyz, and a stop that leaves no process behind:
children are started in their own process group, and (unless detached for the demo) with
PR_SET_PDEATHSIG so they die with the process that started them even if it is SIGKILLed
(portico_devcluster.processes).
"""

import json
import shutil
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from portico_devcluster.certs import Certs, make_certs
from portico_devcluster.processes import free_port, spawn, stop_all, stop_detached

__all__ = ["ClusterError", "LocalCluster", "fake_node", "free_port", "stop_detached"]

AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [
        {
            "level": "Metadata",
            "verbs": ["create", "update", "patch", "delete"],
            "resources": [
                {"group": "portico.dev"},
                {"group": "argoproj.io"},
                {"group": "apps"},
                {"group": "events.k8s.io"},
                {"group": "", "resources": ["configmaps", "events", "namespaces"]},
            ],
        },
        {"level": "None"},
    ],
}


class ClusterError(RuntimeError):
    """The control plane did not start; the message says which process and why."""


FAKE_NODE_LABEL = "portico.dev/fake-node"


def fake_node(name: str, *, pods: int = 110) -> dict[str, object]:
    """A Node that KWOK plays the kubelet for (its default stages make pods Running/Ready)."""
    capacity = {"cpu": "32", "memory": "256Gi", "pods": str(pods)}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"},
            "labels": {
                FAKE_NODE_LABEL: "true",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
        "status": {
            "allocatable": capacity,
            "capacity": capacity,
            "phase": "Running",
        },
    }


@dataclass
class LocalCluster:
    """etcd + kube-apiserver; with `workloads=True` also kube-controller-manager,
    kube-scheduler and KWOK with fake Nodes, so Deployments really roll out."""

    bin_dir: Path
    state_dir: Path
    detach: bool = False
    workloads: bool = False
    nodes: int = 2
    etcd_port: int = field(default_factory=free_port)
    peer_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def audit_log(self) -> Path:
        return self.state_dir / "audit.log"

    def binary(self, name: str) -> str:
        path = self.bin_dir / name
        if not path.exists():
            raise ClusterError(f"{path} is missing: run hack/build-binaries.sh (make binaries)")
        return str(path)

    # --- start ----------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str]) -> None:
        self.processes[name] = spawn(name, args, state_dir=self.state_dir, detach=self.detach)

    def start(self, timeout: float = 60.0) -> "LocalCluster":
        self.state_dir.mkdir(parents=True, exist_ok=True)
        certs = make_certs(self.state_dir / "pki")
        try:
            self._start_etcd()
            self._start_apiserver(certs)
            self._write_kubeconfig(certs)
            self._wait_ready(certs, timeout)
            if self.workloads:
                self._start_workload_plane(certs)
        except BaseException:
            self.stop()
            raise
        (self.state_dir / "cluster.json").write_text(
            json.dumps(
                {"server": self.server, "pids": {k: p.pid for k, p in self.processes.items()}}
            )
        )
        return self

    def _start_etcd(self) -> None:
        data = self.state_dir / "etcd"
        self._spawn(
            "etcd",
            [
                self.binary("etcd"),
                "--name=portico",
                f"--data-dir={data}",
                f"--listen-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{self.peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{self.peer_port}",
                f"--initial-cluster=portico=http://127.0.0.1:{self.peer_port}",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )

    def _start_apiserver(self, certs: Certs) -> None:
        policy = self.state_dir / "audit-policy.yaml"
        policy.write_text(yaml.safe_dump(AUDIT_POLICY))
        self._spawn(
            "kube-apiserver",
            [
                self.binary("kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.api_port}",
                f"--cert-dir={self.state_dir / 'pki'}",
                f"--tls-cert-file={certs.serving}",
                f"--tls-private-key-file={certs.serving_key}",
                f"--client-ca-file={certs.ca}",
                "--service-cluster-ip-range=10.0.0.0/24",
                f"--service-account-issuer={self.server}",
                f"--service-account-key-file={certs.sa_pub}",
                f"--service-account-signing-key-file={certs.sa_key}",
                "--authorization-mode=RBAC",
                "--allow-privileged=true",
                f"--audit-policy-file={policy}",
                f"--audit-log-path={self.audit_log}",
                "--audit-log-format=json",
                "--audit-log-mode=batch",
                "--audit-log-batch-max-wait=1s",
                # Never rotate (the default rotates at 100 MB): readers follow one file by
                # offset, and the bench's N=10000 round writes more than that.
                "--audit-log-maxsize=1000000",
                "--v=1",
            ],
        )

    def _start_workload_plane(self, certs: Certs) -> None:
        kubeconfig = str(self.kubeconfig)
        self._spawn(
            "kube-controller-manager",
            [
                self.binary("kube-controller-manager"),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                f"--service-account-private-key-file={certs.sa_key}",
                f"--root-ca-file={certs.ca}",
                "--use-service-account-credentials=false",
                "--controllers=*,-nodeipam,-service-lb-controller,-cloud-node-lifecycle",
                # KWOK renews the nodes' Leases; a generous grace period keeps a busy 2-core
                # machine from declaring the fake nodes dead (which marks every pod NotReady).
                "--node-monitor-grace-period=300s",
                "--v=1",
            ],
        )
        self._spawn(
            "kube-scheduler",
            [
                self.binary("kube-scheduler"),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                "--v=1",
            ],
        )
        self._spawn(
            "kwok",
            [
                self.binary("kwok"),
                f"--kubeconfig={kubeconfig}",
                f"--manage-nodes-with-label-selector={FAKE_NODE_LABEL}=true",
                "--cidr=10.244.0.1/16",
                "--node-lease-duration-seconds=40",
                "--node-ip=127.0.0.1",
            ],
        )
        manifest = json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [fake_node(f"kwok-node-{i}") for i in range(self.nodes)],
            }
        )
        subprocess.run(
            [self.binary("kubectl"), "--kubeconfig", kubeconfig, "apply", "-f", "-"],
            input=manifest.encode(),
            check=True,
            capture_output=True,
        )

    def _write_kubeconfig(self, certs: Certs) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "portico-local",
                    "cluster": {"server": self.server, "certificate-authority": str(certs.ca)},
                }
            ],
            "users": [
                {
                    "name": "portico-admin",
                    "user": {
                        "client-certificate": str(certs.admin),
                        "client-key": str(certs.admin_key),
                    },
                }
            ],
            "contexts": [
                {
                    "name": "portico-local",
                    "context": {
                        "cluster": "portico-local",
                        "user": "portico-admin",
                        "namespace": "default",
                    },
                }
            ],
            "current-context": "portico-local",
        }
        self.kubeconfig.write_text(yaml.safe_dump(config))

    def _wait_ready(self, certs: Certs, timeout: float) -> None:
        ctx = ssl.create_default_context(cafile=str(certs.ca))
        ctx.load_cert_chain(str(certs.admin), str(certs.admin_key))
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    tail = (self.state_dir / f"{name}.log").read_text(errors="replace")[-2000:]
                    raise ClusterError(f"{name} exited with {proc.returncode}:\n{tail}")
            try:
                with urllib.request.urlopen(f"{self.server}/readyz", context=ctx, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError as e:
                last = str(e)
            time.sleep(0.2)
        raise ClusterError(f"kube-apiserver not ready after {timeout:.0f}s: {last}")

    def version(self) -> str:
        out = subprocess.run(
            [self.binary("kubectl"), "--kubeconfig", str(self.kubeconfig), "version", "-o", "json"],
            capture_output=True,
            text=True,
            check=True,
        )
        server = json.loads(out.stdout)["serverVersion"]["gitVersion"]
        return str(server)

    # --- stop -----------------------------------------------------------------------
    def stop(self) -> None:
        """Stop every process (apiserver first), waiting for each; never raises."""
        stop_all(self.state_dir, self.processes)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.state_dir, ignore_errors=True)
