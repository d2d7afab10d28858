"""The render's tree id, computed without git, is the id git itself gives the same files:
otherwise an unchanged render would be committed again on every Template change."""

import os
import subprocess
from pathlib import Path

import pytest

from portico.domain.gittree import blob_id, tree_id


def git_tree(files: dict[str, str], tmp: Path) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", str(tmp)], check=True, env=env)
    for path, content in files.items():
        target = tmp.joinpath(*path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode())
    subprocess.run(["git", "add", "-A"], cwd=tmp, check=True, env=env)
    out = subprocess.run(
        ["git", "write-tree"], cwd=tmp, check=True, env=env, capture_output=True, text=True
    )
    return out.stdout.strip()


@pytest.mark.parametrize(
    "files",
    [
        {"README.md": "# demo\n"},
        {"a": "", "b/c.txt": "x", "b/d/e.py": "PORT = 8080\n"},
        # git orders a directory as if its name ended with '/': "a.b" < "a/" < "a0"
        {"a.b": "1", "a/x": "2", "a0": "3", "a-b/y": "4"},
        {"unicodé/naïve.md": "héllo ✓\n", ".github/workflows/ci.yaml": "on: [push]\n"},
    ],
)
def test_tree_ids_match_git(files: dict[str, str], tmp_path: Path) -> None:
    assert tree_id(files) == git_tree(files, tmp_path)


def test_a_changed_byte_changes_the_id() -> None:
    assert tree_id({"a/b": "x"}) != tree_id({"a/b": "y"})
    assert tree_id({"a/b": "x"}) != tree_id({"a/c": "x"})
    assert blob_id("") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"  # git's empty blob
