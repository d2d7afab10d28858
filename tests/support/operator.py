"""The operator as users run it: the `portico run` console script, in its own process."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from portico_devcluster.cluster import free_port


class OperatorProcess:
    def __init__(
        self,
        kubeconfig: Path,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
        extra_args: tuple[str, ...] = (),
    ):
        self.kubeconfig = kubeconfig
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.extra_args = extra_args
        self.metrics_port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.health_url = ""

    def start(self, timeout: float = 30.0) -> "OperatorProcess":
        port = free_port()
        self.health_url = f"http://127.0.0.1:{port}/healthz"
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), **self.extra_env}
        script = Path(sys.executable).with_name("portico")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(script),
                    "run",
                    "--liveness",
                    f"http://127.0.0.1:{port}/healthz",
                    *self.extra_args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"operator exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"operator not healthy after {timeout}s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
