"""Publish a scaffold with the git CLI to any git URL (file://, ssh, https): one root commit
with a `Portico-Component:` trailer, pushed to an empty branch. For file:// URLs a missing
bare repository is created (the demo's local "remote"). Idempotent: a branch whose head
carries this Component's trailer is adopted; any other existing branch is a conflict."""

import asyncio
import os
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from portico.clients.publishing import Published, RepoRequest, trailer
from portico.errors import Conflict, ExternalError, TransientError

SYSTEM = "git"


def _git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    try:
        out = subprocess.run(
            [
                "git",
                "-c",
                "init.defaultBranch=main",
                "-c",
                "user.name=Portico",
                "-c",
                "user.email=portico@localhost",
                *args,
            ],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    except subprocess.TimeoutExpired as e:
        raise TransientError(SYSTEM, f"git {args[0]} timed out") from e
    except subprocess.CalledProcessError as e:
        raise ExternalError(SYSTEM, f"git {args[0]} failed: {e.stderr.strip()[:300]}") from e
    return out.stdout


def publish_git(url: str, req: RepoRequest, files: dict[str, str]) -> Published:
    parsed = urlparse(url)
    if parsed.scheme == "file" and not Path(parsed.path).exists():
        Path(parsed.path).parent.mkdir(parents=True, exist_ok=True)
        _git("init", "--bare", "-q", parsed.path)
    heads = _git("ls-remote", url, f"refs/heads/{req.branch}").split()
    with tempfile.TemporaryDirectory(prefix="portico-git-") as tmp:
        work = Path(tmp)
        _git("init", "-q", str(work))
        if heads:
            _git("fetch", "-q", "--depth=1", url, f"refs/heads/{req.branch}", cwd=work)
            message = _git("log", "-1", "--format=%B", "FETCH_HEAD", cwd=work)
            if trailer(req.uid) in message:
                return Published(url, req.branch, heads[0], created=False)
            raise Conflict(
                SYSTEM,
                f"{url} already has branch {req.branch} that Portico did not "
                "push for this Component; it is left untouched",
                status=409,
            )
        for path, content in files.items():
            target = work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        _git("add", "-A", cwd=work)
        dates = {"GIT_AUTHOR_DATE": req.author_date, "GIT_COMMITTER_DATE": req.author_date}
        _git("commit", "-q", "-m", f"{req.message}\n\n{trailer(req.uid)}", cwd=work, env=dates)
        sha = _git("rev-parse", "HEAD", cwd=work).strip()
        _git("push", "-q", url, f"HEAD:refs/heads/{req.branch}", cwd=work)
    return Published(url, req.branch, sha, created=True)


async def publish(url: str, req: RepoRequest, files: dict[str, str]) -> Published:
    return await asyncio.to_thread(publish_git, url, req, files)
