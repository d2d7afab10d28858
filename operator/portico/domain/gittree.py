"""The git object ids of a rendered file set, computed locally (no git, no I/O).

A Template update is proposed only when its render differs from the update branch's head.
Comparing the render's tree id with the head commit's tree id answers that without writing
anything to GitHub: a fleet-wide Template change that leaves some repositories' files as
they are costs those repositories reads only. Every file is a regular file (mode 100644),
as the publishers write them.
"""

import hashlib
from collections.abc import Mapping

FILE_MODE = b"100644"
TREE_MODE = b"40000"


def blob_id(content: str) -> str:
    data = content.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _tree(entries: Mapping[str, str | dict[str, object]]) -> str:
    """A tree's id from name -> blob id (a file) or name -> nested entries (a directory)."""
    items: list[tuple[bytes, bytes, bytes]] = []
    for name, value in entries.items():
        raw = name.encode("utf-8")
        if isinstance(value, dict):
            sha = _tree(value)  # type: ignore[arg-type]
            # git orders a directory as if its name ended with '/'
            items.append((raw + b"/", TREE_MODE + b" " + raw, bytes.fromhex(sha)))
        else:
            items.append((raw, FILE_MODE + b" " + raw, bytes.fromhex(value)))
    body = b"".join(head + b"\0" + sha for _, head, sha in sorted(items))
    return hashlib.sha1(b"tree %d\0" % len(body) + body, usedforsecurity=False).hexdigest()


def tree_id(files: Mapping[str, str]) -> str:
    """The id git gives the tree holding exactly `files` (path -> content)."""
    root: dict[str, object] = {}
    for path, content in files.items():
        *dirs, name = path.split("/")
        node = root
        for d in dirs:
            child = node.setdefault(d, {})
            assert isinstance(child, dict), f"{path}: a file and a directory share a name"
            node = child
        node[name] = blob_id(content)
    return _tree(root)  # type: ignore[arg-type]
