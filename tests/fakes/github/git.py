"""git plumbing on one bare repository: the fake's only way to read and write git data, through
the git CLI (``hash-object``, ``mktree``, ``commit-tree``, ``update-ref``, ``cat-file``), with a
clean environment (no user or system config, no prompts)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes.github.errors import GitError
from fakes.github.signature import Signature

ZERO_SHA = "0" * 40
SHA = re.compile(r"^[0-9a-f]{40}$")


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
    )
    return env


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a git tree; ``path`` is relative to the tree it was listed from."""

    mode: str
    type: str
    sha: str
    path: str
    size: int | None = None


@dataclass(frozen=True)
class CommitData:
    """A parsed git commit object."""

    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str


class Git:
    """git plumbing on one bare repository."""

    _env = _git_env()

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def init(cls, path: Path, branch: str) -> Git:
        path.parent.mkdir(parents=True, exist_ok=True)
        cmd = ["git", "init", "--quiet", "--bare", "--template=", "-b", branch, str(path)]
        subprocess.run(cmd, check=True, capture_output=True, env=cls._env)
        return cls(path)

    def _run(
        self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", f"--git-dir={self.path}", *args],
            input=stdin,
            capture_output=True,
            env={**self._env, **(env or {})},
            check=False,
        )

    def run(self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
        proc = self._run(*args, stdin=stdin, env=env)
        if proc.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode("utf-8", errors="surrogateescape")

    def succeeds(self, *args: str) -> bool:
        return self._run(*args).returncode == 0

    def is_empty(self) -> bool:
        return not self.run("for-each-ref", "--count=1", "--format=%(refname)").strip()

    def object_type(self, sha: Any) -> str | None:
        if not isinstance(sha, str) or not SHA.match(sha):
            return None
        proc = self._run("cat-file", "-t", sha)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def resolve(self, rev: str) -> str | None:
        if not rev or rev.startswith("-"):
            return None
        proc = self._run("rev-parse", "--verify", "--quiet", rev)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def ref(self, name: str) -> str | None:
        """The object a fully qualified ref (``refs/heads/main``) points at, if it exists."""
        if not name.startswith("refs/"):
            return None
        proc = self._run("show-ref", "--verify", "--hash", name)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def refs(self, prefix: str) -> list[tuple[str, str]]:
        out = self.run("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        pairs = (line.partition(" ") for line in out.splitlines())
        return [(name, sha) for name, _, sha in pairs]

    def valid_ref_name(self, name: str) -> bool:
        return self.succeeds("check-ref-format", name)

    def write_blob(self, data: bytes) -> str:
        return self.run("hash-object", "-w", "--stdin", stdin=data).strip()

    def read_blob(self, sha: str) -> bytes:
        proc = self._run("cat-file", "blob", sha)
        if proc.returncode != 0:
            raise GitError(proc.stderr.decode(errors="replace"))
        return proc.stdout

    def mktree(self, entries: Iterable[tuple[str, str, str, str]]) -> str:
        data = "".join(f"{mode} {kind} {sha}\t{name}\0" for mode, kind, sha, name in entries)
        return self.run("mktree", "-z", stdin=data.encode("utf-8", errors="surrogateescape"))[:40]

    def ls_tree(self, sha: str, recursive: bool = False, trees: bool = True) -> list[TreeEntry]:
        args = ["ls-tree", "-z", "-l"]
        if recursive:
            args += ["-r", "-t"] if trees else ["-r"]
        out = self.run(*args, sha)
        return [_parse_ls_tree(record) for record in out.split("\0") if record]

    def commit_tree(
        self,
        tree: str,
        parents: Sequence[str],
        message: str,
        author: Signature,
        committer: Signature,
    ) -> str:
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_AUTHOR_DATE": author.to_git(),
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
            "GIT_COMMITTER_DATE": committer.to_git(),
        }
        parent_args = [arg for parent in parents for arg in ("-p", parent)]
        out = self.run("commit-tree", tree, *parent_args, stdin=message.encode(), env=env)
        return out.strip()

    def read_commit(self, sha: str) -> CommitData:
        raw = self.run("cat-file", "commit", sha)
        header, _, message = raw.partition("\n\n")
        fields: dict[str, list[str]] = {}
        for line in header.splitlines():
            if not line.startswith(" "):
                key, _, value = line.partition(" ")
                fields.setdefault(key, []).append(value)
        return CommitData(
            sha=sha,
            tree=fields["tree"][0],
            parents=tuple(fields.get("parent", [])),
            author=Signature.from_git(fields["author"][0]),
            committer=Signature.from_git(fields["committer"][0]),
            message=message,
        )

    def update_ref(self, name: str, new: str, old: str) -> bool:
        """Compare-and-swap ``name`` from ``old`` (ZERO_SHA: must not exist) to ``new``."""
        return self.succeeds("update-ref", name, new, old)

    def delete_ref(self, name: str, old: str) -> bool:
        return self.succeeds("update-ref", "-d", name, old)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self.succeeds("merge-base", "--is-ancestor", ancestor, descendant)

    def set_head(self, branch: str) -> None:
        self.run("symbolic-ref", "HEAD", f"refs/heads/{branch}")

    def rev_list(self, rev: str) -> list[str]:
        return self.run("rev-list", rev).split() if self.resolve(rev) else []

    def merge_base(self, one: str, other: str) -> str | None:
        """The best common ancestor of two commits; None when their histories are unrelated."""
        proc = self._run("merge-base", one, other)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def merge_tree(self, base: str, head: str) -> str | None:
        """The tree of merging ``head`` into ``base``, or None when they conflict, computed by
        ``git merge-tree --write-tree`` (exit 0: clean, 1: conflicts) without touching any ref.
        The two commits must share history (see :meth:`merge_base`)."""
        proc = self._run("merge-tree", "--write-tree", "--no-messages", base, head)
        if proc.returncode == 1:
            return None
        if proc.returncode != 0:
            raise GitError(f"git merge-tree {base} {head}: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode().split()[0]

    def count(self, revs: str) -> int:
        """How many commits ``git rev-list`` lists for ``revs`` (e.g. ``base..head``)."""
        return int(self.run("rev-list", "--count", revs))

    def diff_stat(self, old: str, new: str) -> tuple[int, int, int]:
        """(additions, deletions, changed files) from ``old`` to ``new``; binary files count as
        changed, with no lines."""
        lines = self.run("diff", "--numstat", "-z", "--no-renames", old, new).split("\0")
        stats = [line.split("\t") for line in lines if line]
        added = sum(int(a) for a, _, _ in stats if a != "-")
        deleted = sum(int(d) for _, d, _ in stats if d != "-")
        return added, deleted, len(stats)


def _parse_ls_tree(record: str) -> TreeEntry:
    meta, _, path = record.partition("\t")
    mode, kind, sha, size = meta.split()
    return TreeEntry(mode, kind, sha, path, None if size == "-" else int(size))
