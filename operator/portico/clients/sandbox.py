"""Render tenant templates in a child process, so a runaway template costs that process only.

Jinja templates, JSON Schema `pattern`s and dashboards come from namespace editors. Rendered
on the event loop, one nested loop stalls every reconcile and one huge string takes the
operator's memory. Here each render runs `python -m portico.renderjobs` (see that module for
the jobs and the line protocol) with kernel limits on CPU time and address space, a wall-clock
deadline, a cap on what it may send back, and an environment that holds no tokens.

    renderer = Renderer(seconds=10, memory_bytes=768 * 2**20, concurrency=2,
                        max_output=output_cap(max_bytes))      # created at startup, in memo
    result = await renderer.run("template_check", args)       # the job's result dict

Errors, all from portico.rendering.skeleton, each with `where` (the file or test the child
last reported), `message`, and `reason` for a condition:

    RenderError      reason RenderFailed: the child's RenderError (dashboard_render), or the
    │                child failed in an unexpected way (message says how)
    ├── RenderTimeout   reason RenderTimeout: past the wall-clock deadline (seconds * 1.5 + 2),
    │                   or killed by the CPU limit (SIGXCPU/SIGKILL)
    └── RenderTooLarge  reason RenderTooLarge: MemoryError or death by the address-space limit,
                        an output line over `max_output`, or the sandbox's own size caps

The child is killed (its whole process group) on every way out: deadline, oversized output,
and cancellation of the awaiting task. Nothing here blocks the loop: the subprocess is async,
stdout is read in chunks, and a large result is parsed in a thread.
"""

import asyncio
import contextlib
import json
import os
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

from portico.models.config import ScaffoldConfig
from portico.rendering.skeleton import RenderError, RenderTimeout, RenderTooLarge

SECONDS_SETTING = "scaffold.renderSeconds"
MEMORY_SETTING = "scaffold.renderMemoryMiB"
CHUNK = 1 << 16
PROGRESS_MAX = 4096  # longer lines are not progress reports
STDERR_KEEP = 4096  # the tail of stderr kept for an error message
PARSE_IN_THREAD = 1 << 20
REAP_SECONDS = 5.0


def child_env() -> dict[str, str]:
    """The render process's whole environment: what Python needs to import portico, nothing
    else (no tokens, no kubeconfig, no proxies)."""
    path = dict.fromkeys(p for p in sys.path if p)  # '' would mean the child's cwd
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONPATH": os.pathsep.join(path),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONSAFEPATH": "1",
    }


def output_cap(max_bytes: int) -> int:
    """A result line's cap for a skeleton of at most `max_bytes`: JSON escaping and the
    problems/messages around it fit in 2x + 1 MiB."""
    return 2 * max_bytes + (1 << 20)


@dataclass
class _Watch:
    """What one child said: its last progress report, its final line, how it ended."""

    at: str = ""
    final: bytes | None = None
    overflow: bool = False
    timed_out: bool = False
    stderr: bytearray = field(default_factory=bytearray)


def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # start_new_session: pgid == pid


class Renderer:
    """Runs render jobs in child processes, at most `concurrency` at once."""

    def __init__(
        self, *, seconds: float, memory_bytes: int, concurrency: int, max_output: int
    ) -> None:
        self.seconds = seconds
        self.memory_bytes = memory_bytes
        self.max_output = max_output
        self.deadline = seconds * 1.5 + 2.0
        self._slots = asyncio.Semaphore(concurrency)

    async def run(
        self, job: str, args: dict[str, Any], *, max_output: int | None = None
    ) -> dict[str, Any]:
        """The job's result; RenderError (or a subclass) if it failed or hit a limit."""
        cap = max_output or self.max_output
        limits = {"cpuSeconds": self.seconds, "memoryBytes": self.memory_bytes}
        request = json.dumps({"job": job, "args": args, "limits": limits}).encode()
        async with self._slots:
            watch, code = await self._watch(request, cap)
        return await self._outcome(job, watch, code, cap)

    async def _watch(self, request: bytes, cap: int) -> tuple[_Watch, int | None]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-B",
            "-m",
            "portico.renderjobs",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=child_env(),
            cwd="/",
            start_new_session=True,
        )
        watch = _Watch()
        try:
            async with asyncio.timeout(self.deadline):
                await asyncio.gather(
                    self._feed(proc, request),
                    self._read(proc, watch, cap),
                    self._errors(proc, watch),
                )
                await proc.wait()
        except TimeoutError:
            watch.timed_out = True
        finally:
            _kill(proc)  # a no-op if it exited; on cancellation too
            if proc.returncode is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), REAP_SECONDS)
        return watch, proc.returncode

    @staticmethod
    async def _feed(proc: asyncio.subprocess.Process, request: bytes) -> None:
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.write(request)
            await proc.stdin.drain()
            proc.stdin.close()
            await proc.stdin.wait_closed()

    @staticmethod
    async def _read(proc: asyncio.subprocess.Process, watch: _Watch, cap: int) -> None:
        """Lines as they come: keep the last progress report and the final line; kill the
        child as soon as a line outgrows `cap`."""
        assert proc.stdout is not None
        pending = bytearray()
        while chunk := await proc.stdout.read(CHUNK):
            start = 0
            while (end := chunk.find(b"\n", start)) >= 0:
                pending += chunk[start:end]
                start = end + 1
                if len(pending) > cap:
                    break
                line = bytes(pending)
                pending.clear()
                if len(line) <= PROGRESS_MAX and line.startswith(b'{"at":'):
                    with contextlib.suppress(ValueError, AttributeError):
                        watch.at = str(json.loads(line).get("at") or "")
                elif line:
                    watch.final = line
            else:
                pending += chunk[start:]
            if len(pending) > cap:
                watch.overflow = True
                _kill(proc)
                return
        if pending:  # a last line without its newline
            watch.final = bytes(pending)

    @staticmethod
    async def _errors(proc: asyncio.subprocess.Process, watch: _Watch) -> None:
        assert proc.stderr is not None
        while chunk := await proc.stderr.read(CHUNK):
            watch.stderr += chunk
            del watch.stderr[:-STDERR_KEEP]

    async def _outcome(self, job: str, watch: _Watch, code: int | None, cap: int) -> dict[str, Any]:
        where = watch.at or job
        took_too_long = (
            f"rendering took longer than {self.seconds:g}s (limit {SECONDS_SETTING}) "
            "and was stopped"
        )
        out_of_memory = (
            f"rendering needed more than {self.memory_bytes // 2**20} MiB of memory "
            f"(limit {MEMORY_SETTING}) and was stopped"
        )
        if watch.overflow:
            raise RenderTooLarge(where, f"the rendered output exceeds {cap} bytes and was stopped")
        if watch.timed_out:
            raise RenderTimeout(where, took_too_long)
        if watch.final is None:
            tail = watch.stderr.decode(errors="replace").strip()
            if b"MemoryError" in watch.stderr:
                raise RenderTooLarge(where, out_of_memory)
            if code in (-signal.SIGXCPU, -signal.SIGKILL):
                raise RenderTimeout(where, took_too_long)
            raise RenderError(where, f"the render process exited ({code}): {tail[-500:]}")
        final = watch.final
        try:
            if len(final) > PARSE_IN_THREAD:
                message = await asyncio.to_thread(json.loads, final)
            else:
                message = json.loads(final)
        except ValueError as e:
            raise RenderError(where, f"the render process sent an unreadable reply: {e}") from e
        if isinstance(message, dict) and isinstance(message.get("result"), dict):
            return dict(message["result"])
        error = message.get("error") if isinstance(message, dict) else None
        if not isinstance(error, dict):
            raise RenderError(where, "the render process sent neither a result nor an error")
        where = str(error.get("where") or where)
        kind, text = error.get("type"), str(error.get("message") or "")
        if kind == "MemoryError":
            raise RenderTooLarge(where, out_of_memory)
        if kind == "RenderTooLarge":
            raise RenderTooLarge(where, text)
        raise RenderError(where, text)


class Renderers:
    """The Renderer for the configuration in force: rebuilt when its limits change, so a
    new `scaffold.render*` setting applies to the next render without a restart."""

    def __init__(self) -> None:
        self._current: tuple[tuple[float, int, int, int], Renderer] | None = None

    def for_config(self, scaffold: ScaffoldConfig) -> Renderer:
        limits = (
            scaffold.render_seconds,
            scaffold.render_memory_mib,
            scaffold.render_concurrency,
            scaffold.max_bytes,
        )
        if self._current is None or self._current[0] != limits:
            renderer = Renderer(
                seconds=scaffold.render_seconds,
                memory_bytes=scaffold.render_memory_mib * 2**20,
                concurrency=scaffold.render_concurrency,
                max_output=output_cap(scaffold.max_bytes),
            )
            self._current = (limits, renderer)
        return self._current[1]
