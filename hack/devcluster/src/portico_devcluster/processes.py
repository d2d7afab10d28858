"""Child processes of the local cluster: spawned with a log and a pid file each, killed with
their parent (PR_SET_PDEATHSIG) unless detached for the demo, and stopped without leaving
anything behind."""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """preexec_fn: SIGKILL this child when the parent dies (Linux prctl PR_SET_PDEATHSIG)."""
    os.setpgrp()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


def spawn(
    name: str,
    args: list[str],
    *,
    state_dir: Path,
    detach: bool,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start `args` with stdout and stderr to <state_dir>/<name>.log and a <name>.pid file."""
    log = open(state_dir / f"{name}.log", "ab")  # noqa: SIM115 (the child keeps it)
    proc = subprocess.Popen(
        args,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=detach,
        preexec_fn=None if detach else _die_with_parent,
        env=dict(env) if env is not None else None,
        cwd=cwd,
    )
    log.close()
    (state_dir / f"{name}.pid").write_text(str(proc.pid))
    return proc


def log_tail(state_dir: Path, name: str, size: int = 2000) -> str:
    path = state_dir / f"{name}.log"
    return path.read_text(errors="replace")[-size:] if path.exists() else "(no log)"


def terminate(pid: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM, then SIGKILL after 10 s; never raises."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc is not None:
            if proc.poll() is not None:
                return
        else:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if proc is not None:
        proc.wait()


def stop_all(state_dir: Path, processes: dict[str, subprocess.Popen[bytes]]) -> None:
    """Stop every process, last started first, waiting for each; never raises."""
    for name in reversed(list(processes)):
        proc = processes.pop(name)
        terminate(proc.pid, proc)
        (state_dir / f"{name}.pid").unlink(missing_ok=True)


# Every process `up` may leave running, in the order they are stopped.
DETACHED_ORDER = (
    "portico",
    "argocd-server",
    "argocd-application-controller",
    "argocd-repo-server",
    "redis",
    "kwok",
    "kube-scheduler",
    "kube-controller-manager",
    "kube-apiserver",
    "etcd",
)


def stop_detached(state_dir: Path) -> list[str]:
    """Stop a detached cluster (the demo) from its pid files; returns what was stopped."""
    stopped = []
    for name in DETACHED_ORDER:
        pidfile = state_dir / f"{name}.pid"
        if pidfile.exists():
            with contextlib.suppress(ValueError):
                terminate(int(pidfile.read_text().strip()))
                stopped.append(name)
            pidfile.unlink(missing_ok=True)
    return stopped


def wait_port(port: int, *, deadline: float, alive: subprocess.Popen[bytes], what: str) -> None:
    """Wait until something accepts on 127.0.0.1:port; raise if `alive` exits first."""
    while time.monotonic() < deadline:
        if alive.poll() is not None:
            raise RuntimeError(f"{what} exited with {alive.returncode}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} is not listening on 127.0.0.1:{port}")
