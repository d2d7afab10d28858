"""Contents: ``GET /repos/{o}/{r}/contents/{path}[?ref=]`` (a file, or a directory's listing)
and ``PUT .../contents/{path}`` (one commit that creates or updates one file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fakes.github.errors import ApiError, missing, not_found
from fakes.github.git import ZERO_SHA, TreeEntry
from fakes.github.routing import REPO, Request, Response, Routes
from fakes.github.shapes import commit_json, content_json
from fakes.github.signature import parse_signature
from fakes.github.trees import clear_for, flatten, lookup, resolve_commit, write_tree
from fakes.github.values import check_path, decode_content, iso, now

if TYPE_CHECKING:
    from fakes.github.api import GitHubApi

routes = Routes()


@routes("GET", REPO + r"/contents(?:/(?P<path>.*))?")
def get_contents(api: GitHubApi, req: Request) -> Response:
    repo = api.repo(req)
    git = api.git(repo)
    if git.is_empty():
        raise not_found("This repository is empty.")
    ref = req.query.get("ref") or repo.default_branch
    commit = resolve_commit(git, ref)
    if commit is None:
        raise not_found(f"No commit found for the ref {ref}")
    path = req.args.get("path", "").strip("/")
    entry = lookup(git, commit, path)
    if entry is None:
        raise not_found()
    if entry.type != "tree":
        return Response(200, content_json(api, repo, git, ref, entry, full=True))
    children = [
        TreeEntry(e.mode, e.type, e.sha, f"{path}/{e.path}" if path else e.path, e.size)
        for e in git.ls_tree(entry.sha)
    ]
    return Response(200, [content_json(api, repo, git, ref, e, full=False) for e in children])


@routes("PUT", REPO + r"/contents/(?P<path>.+)")
def put_contents(api: GitHubApi, req: Request) -> Response:
    repo, body = api.writable_repo(req), req.body
    git = api.git(repo)
    path = check_path(req.args["path"].strip("/"), "Content")
    message, content = body.get("message"), body.get("content")
    if not isinstance(message, str):
        raise missing("Content", "message")
    if not isinstance(content, str):
        raise missing("Content", "content")
    data = decode_content(content, "base64", "Content")
    branch = body.get("branch") or repo.default_branch
    head = git.ref(f"refs/heads/{branch}")
    if head is None and not git.is_empty():
        raise not_found(f"Branch {branch} not found")
    leaves = flatten(git, git.read_commit(head).tree) if head else {}
    existing = leaves.get(path)
    if existing is not None and body.get("sha") is None:
        raise missing("Content", "sha")
    if existing is not None and body.get("sha") != existing.sha:
        raise ApiError(409, f"{path} does not match {body.get('sha')}")
    mode = existing.mode if existing is not None else "100644"
    clear_for(leaves, path)
    leaves[path] = TreeEntry(mode, "blob", git.write_blob(data), path, len(data))
    committer = parse_signature(body.get("committer"), "committer", api.user_signature())
    author = parse_signature(body.get("author"), "author", committer)
    tree = write_tree(git, leaves)
    sha = git.commit_tree(tree, [head] if head else [], message, author, committer)
    if not git.update_ref(f"refs/heads/{branch}", sha, head or ZERO_SHA):
        raise ApiError(409, f"Could not update refs/heads/{branch}")
    repo.pushed_at = iso(now())
    payload = {
        "content": content_json(api, repo, git, branch, leaves[path], full=False),
        "commit": commit_json(api, repo, git.read_commit(sha)),
    }
    return Response(201 if existing is None else 200, payload)
