"""Trees as flat ``path -> leaf`` maps: flattening a tree, editing the map as a create-tree
request or a contents write asks, writing it back as nested trees, and looking a path up."""

from __future__ import annotations

from typing import Any

from fakes.github.errors import invalid, missing, unprocessable
from fakes.github.git import SHA, Git, TreeEntry
from fakes.github.values import check_path

MODES = {
    "100644": "blob",
    "100755": "blob",
    "120000": "blob",
    "040000": "tree",
    "160000": "commit",
}


def flatten(git: Git, tree: str) -> dict[str, TreeEntry]:
    """The leaves (blobs, submodules) under ``tree``, by full path."""
    return {e.path: e for e in git.ls_tree(tree, recursive=True, trees=False)}


def remove(leaves: dict[str, TreeEntry], path: str) -> None:
    leaves.pop(path, None)
    prefix = path + "/"
    for key in [k for k in leaves if k.startswith(prefix)]:
        del leaves[key]


def clear_for(leaves: dict[str, TreeEntry], path: str) -> None:
    """Make room for something at ``path``: drop it, what is under it, and files above it."""
    remove(leaves, path)
    parts = path.split("/")
    for i in range(1, len(parts)):
        leaves.pop("/".join(parts[:i]), None)


def write_tree(git: Git, leaves: dict[str, TreeEntry]) -> str:
    entries: list[tuple[str, str, str, str]] = []
    subdirs: dict[str, dict[str, TreeEntry]] = {}
    for path, entry in leaves.items():
        head, sep, rest = path.partition("/")
        if sep:
            subdirs.setdefault(head, {})[rest] = entry
        else:
            entries.append((entry.mode, entry.type, entry.sha, head))
    for name, sub in subdirs.items():
        entries.append(("040000", "tree", write_tree(git, sub), name))
    return git.mktree(entries)


def apply_tree_item(git: Git, leaves: dict[str, TreeEntry], item: Any) -> None:
    """Apply one element of a create-tree request's ``tree`` array to ``leaves``."""
    if not isinstance(item, dict):
        raise invalid("Tree", "tree", "tree entries must be objects")
    path = check_path(item.get("path"))
    mode = item.get("mode")
    if mode not in MODES:
        raise invalid("Tree", "mode", f"tree.mode {mode!r} is not a valid mode")
    kind = item.get("type", MODES[mode])
    if kind != MODES[mode]:
        raise invalid("Tree", "type", f"tree.type {kind!r} does not match mode {mode}")
    if "content" in item and item.get("sha") is not None:
        raise unprocessable("Must supply either tree.sha or tree.content, not both", "Tree", "sha")
    if "content" in item:
        _place_content(git, leaves, path, mode, kind, item["content"])
    elif "sha" in item and item["sha"] is None:
        remove(leaves, path)
    elif "sha" in item:
        _place_sha(git, leaves, path, mode, kind, item["sha"])
    else:
        raise missing("Tree", "sha")


def _place_content(
    git: Git, leaves: dict[str, TreeEntry], path: str, mode: str, kind: str, content: Any
) -> None:
    if kind != "blob" or not isinstance(content, str):
        raise invalid("Tree", "content", "tree.content is only for blobs and must be a string")
    clear_for(leaves, path)
    leaves[path] = TreeEntry(mode, kind, git.write_blob(content.encode("utf-8")), path)


def _place_sha(
    git: Git, leaves: dict[str, TreeEntry], path: str, mode: str, kind: str, sha: Any
) -> None:
    if not isinstance(sha, str) or not SHA.match(sha):
        raise invalid("Tree", "sha", f"tree.sha {sha!r} is not a valid object id")
    if kind != "commit" and git.object_type(sha) != kind:
        raise unprocessable(f"tree.sha {sha} is not a valid {kind}", "Tree", "sha")
    clear_for(leaves, path)
    if kind == "tree":
        for sub, entry in flatten(git, sha).items():
            leaves[f"{path}/{sub}"] = entry
    else:
        leaves[path] = TreeEntry(mode, kind, sha, path)


def resolve_commit(git: Git, ref: str) -> str | None:
    for candidate in (f"refs/heads/{ref}", f"refs/tags/{ref}", ref):
        sha = git.resolve(f"{candidate}^{{commit}}")
        if sha is not None:
            return sha
    return None


def lookup(git: Git, commit: str, path: str) -> TreeEntry | None:
    root = git.read_commit(commit).tree
    if not path:
        return TreeEntry("040000", "tree", root, "")
    parent, _, name = path.rpartition("/")
    parent_tree = git.resolve(f"{commit}:{parent}") if parent else root
    if parent_tree is None or git.object_type(parent_tree) != "tree":
        return None
    for entry in git.ls_tree(parent_tree):
        if entry.path == name:
            return TreeEntry(entry.mode, entry.type, entry.sha, path, entry.size)
    return None
