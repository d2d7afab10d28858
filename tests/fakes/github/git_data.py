"""The Git Data API: ``POST /repos/{o}/{r}/git/blobs|trees|commits|refs``,
``GET .../git/blobs/{sha}``, ``GET .../git/trees/{sha}[?recursive=1]``,
``GET .../git/commits/{sha}``, ``GET .../git/ref/{ref}``, ``GET|PATCH|DELETE .../git/refs/{ref}``.
On an empty repository every one of them answers 409 "Git Repository is empty."."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fakes.github.errors import invalid, missing, not_found, unprocessable
from fakes.github.git import ZERO_SHA
from fakes.github.routing import REPO, Request, Response, Routes
from fakes.github.shapes import commit_json, ref_json, tree_json
from fakes.github.signature import parse_signature
from fakes.github.trees import apply_tree_item, flatten, write_tree
from fakes.github.values import b64, decode_content, iso, now

if TYPE_CHECKING:
    from fakes.github.api import GitHubApi

routes = Routes()


# -- blobs, trees, commits -------------------------------------------------------------


@routes("POST", REPO + r"/git/blobs")
def create_blob(api: GitHubApi, req: Request) -> Response:
    repo, git = api.git_data(req, write=True)
    content = req.body.get("content")
    if not isinstance(content, str):
        raise missing("Blob", "content")
    encoding = req.body.get("encoding", "utf-8")
    sha = git.write_blob(decode_content(content, str(encoding), "Blob"))
    url = api.api_url(repo, f"/git/blobs/{sha}")
    return Response(201, {"sha": sha, "url": url}, {"Location": url})


@routes("GET", REPO + r"/git/blobs/(?P<sha>[^/]+)")
def get_blob(api: GitHubApi, req: Request) -> Response:
    repo, git = api.git_data(req, write=False)
    sha = req.args["sha"]
    if git.object_type(sha) != "blob":
        raise not_found()
    data = git.read_blob(sha)
    return Response(
        200,
        {
            "sha": sha,
            "node_id": f"B_{sha}",
            "size": len(data),
            "url": api.api_url(repo, f"/git/blobs/{sha}"),
            "content": b64(data),
            "encoding": "base64",
        },
    )


@routes("POST", REPO + r"/git/trees")
def create_tree(api: GitHubApi, req: Request) -> Response:
    repo, git = api.git_data(req, write=True)
    items = req.body.get("tree")
    if not isinstance(items, list):
        raise missing("Tree", "tree")
    base = req.body.get("base_tree")
    if base is not None and git.object_type(base) != "tree":
        raise unprocessable(f"base_tree {base} is not a valid tree", "Tree", "base_tree")
    leaves = flatten(git, base) if base is not None else {}
    for item in items:
        apply_tree_item(git, leaves, item)
    payload = tree_json(api, repo, git, write_tree(git, leaves), recursive=False)
    return Response(201, payload, {"Location": payload["url"]})


@routes("GET", REPO + r"/git/trees/(?P<sha>.+)")
def get_tree(api: GitHubApi, req: Request) -> Response:
    repo, git = api.git_data(req, write=False)
    sha = git.resolve(f"{req.args['sha']}^{{tree}}")
    if sha is None:
        raise not_found()
    return Response(200, tree_json(api, repo, git, sha, recursive="recursive" in req.query))


@routes("POST", REPO + r"/git/commits")
def create_commit(api: GitHubApi, req: Request) -> Response:
    repo, git = api.git_data(req, write=True)
    body = req.body
    message = body.get("message")
    if not isinstance(message, str):
        raise missing("Commit", "message")
    tree = body.get("tree")
    if not isinstance(tree, str):
        raise missing("Commit", "tree")
    if git.object_type(tree) != "tree":
        raise unprocessable("Tree SHA does not exist", "Commit", "tree")
    parents = body.get("parents", [])
    if not isinstance(parents, list):
        raise invalid("Commit", "parents")
    for parent in parents:
        if git.object_type(parent) != "commit":
            raise unprocessable(
                "Parent SHA does not exist or is not a commit object", "Commit", "parents"
            )
    author = parse_signature(body.get("author"), "author", api.user_signature())
    committer = parse_signature(body.get("committer"), "committer", author)
    sha = git.commit_tree(tree, parents, message, author, committer)
    payload = commit_json(api, repo, git.read_commit(sha))
    return Response(201, payload, {"Location": payload["url"]})


@routes("GET", REPO + r"/git/commits/(?P<sha>[^/]+)")
def get_commit(api: GitHubApi, req: Request) -> Response:
    repo, git = api.git_data(req, write=False)
    sha = req.args["sha"]
    if git.object_type(sha) != "commit":
        raise not_found()
    return Response(200, commit_json(api, repo, git.read_commit(sha)))


# -- references ------------------------------------------------------------------------


@routes("GET", REPO + r"/git/ref/(?P<ref>.+)")
def get_ref(api: GitHubApi, req: Request) -> Response:
    repo, git = api.git_data(req, write=False)
    name = f"refs/{req.args['ref']}"
    sha = git.ref(name)
    if sha is None:
        raise not_found()
    return Response(200, ref_json(api, repo, git, name, sha))


@routes("GET", REPO + r"/git/refs/(?P<ref>.+)")
def get_refs(api: GitHubApi, req: Request) -> Response:
    """Legacy form: the ref itself on an exact match, else the refs under it as a list."""
    repo, git = api.git_data(req, write=False)
    name = f"refs/{req.args['ref']}"
    sha = git.ref(name)
    if sha is not None:
        return Response(200, ref_json(api, repo, git, name, sha))
    matches = [ref_json(api, repo, git, n, s) for n, s in git.refs(name + "/")]
    if not matches:
        raise not_found()
    return Response(200, matches)


@routes("POST", REPO + r"/git/refs")
def create_ref(api: GitHubApi, req: Request) -> Response:
    repo, git = api.git_data(req, write=True)
    name, sha = req.body.get("ref"), req.body.get("sha")
    if not isinstance(name, str):
        raise missing("Reference", "ref")
    if not isinstance(sha, str):
        raise missing("Reference", "sha")
    if not name.startswith("refs/") or name.count("/") < 2:
        raise unprocessable(
            "Reference name must start with 'refs/' and have at least two slashes.",
            "Reference",
            "ref",
        )
    if not git.valid_ref_name(name):
        raise unprocessable(f"{name} is not a valid ref name.", "Reference", "ref")
    if git.object_type(sha) is None:
        raise unprocessable("Object does not exist", "Reference", "sha")
    if not git.update_ref(name, sha, ZERO_SHA):
        raise unprocessable("Reference already exists", "Reference", "ref")
    repo.pushed_at = iso(now())
    payload = ref_json(api, repo, git, name, sha)
    return Response(201, payload, {"Location": payload["url"]})


@routes("PATCH", REPO + r"/git/refs/(?P<ref>.+)")
def update_ref(api: GitHubApi, req: Request) -> Response:
    repo, git = api.git_data(req, write=True)
    name, sha = f"refs/{req.args['ref']}", req.body.get("sha")
    force = req.body.get("force", False)
    if not isinstance(sha, str):
        raise missing("Reference", "sha")
    if not isinstance(force, bool):
        raise invalid("Reference", "force")
    current = git.ref(name)
    if current is None:
        raise unprocessable("Reference does not exist", "Reference", "ref")
    if git.object_type(sha) is None:
        raise unprocessable("Object does not exist", "Reference", "sha")
    if not force and current != sha and not git.is_ancestor(current, sha):
        raise unprocessable("Update is not a fast forward", "Reference", "sha")
    if not git.update_ref(name, sha, current):
        raise unprocessable("Reference cannot be updated", "Reference", "ref")
    repo.pushed_at = iso(now())
    return Response(200, ref_json(api, repo, git, name, sha))


@routes("DELETE", REPO + r"/git/refs/(?P<ref>.+)")
def delete_ref(api: GitHubApi, req: Request) -> Response:
    _, git = api.git_data(req, write=True)
    name = f"refs/{req.args['ref']}"
    current = git.ref(name)
    if current is None or not git.delete_ref(name, current):
        raise unprocessable("Reference does not exist", "Reference", "ref")
    return Response(204)
