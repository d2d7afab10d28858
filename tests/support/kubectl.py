"""kubectl, built from the same Kubernetes version as the control plane."""

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Kubectl:
    binary: Path
    kubeconfig: Path

    def run(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.binary), "--kubeconfig", str(self.kubeconfig), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def apply(self, manifest: str | Path, namespace: str | None = None) -> str:
        ns = ["-n", namespace] if namespace else []
        if isinstance(manifest, Path):
            return self.run("apply", *ns, "-f", str(manifest)).stdout
        return self.run("apply", *ns, "-f", "-", input=manifest).stdout

    def get(self, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
        result = self.run("get", kind, name, "-n", namespace, "-o", "json", check=False)
        if result.returncode != 0:
            if "NotFound" in result.stderr:
                return None
            raise AssertionError(result.stderr)
        obj: dict[str, Any] = json.loads(result.stdout)
        return obj

    def condition(self, kind: str, name: str, namespace: str, type_: str) -> dict[str, Any]:
        obj = self.get(kind, name, namespace)
        assert obj is not None, f"{kind}/{name} does not exist"
        for c in obj.get("status", {}).get("conditions", []):
            if c["type"] == type_:
                return dict(c)
        raise AssertionError(f"{kind}/{name} has no {type_} condition yet: {obj.get('status')}")

    def condition_at(
        self, kind: str, name: str, namespace: str, type_: str, generation: int
    ) -> tuple[dict[str, Any], float]:
        """The condition once the operator has reconciled `generation` (its
        observedGeneration), and how long that took: the one way to wait for a reconcile
        that changes nothing else."""
        from support.poll import eventually

        def reconciled() -> dict[str, Any]:
            c = self.condition(kind, name, namespace, type_)
            assert c.get("observedGeneration") == generation, c
            return c

        started = time.monotonic()
        found = eventually(reconciled, timeout=30)
        return found, time.monotonic() - started

    def wait_established(self, path: Path) -> None:
        """`kubectl wait --for=condition=Established` on CRD manifests, retried: kubectl
        errors out instead of waiting while a new CRD has no conditions at all yet."""
        from support.poll import eventually

        def established() -> None:
            done = self.run(
                "wait", "--for=condition=Established", "--timeout=10s", "-f", str(path),
                check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr

        eventually(established, timeout=60, interval=0.5)
