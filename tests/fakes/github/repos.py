"""Repositories: ``POST /orgs/{org}/repos``, ``POST /user/repos``,
``GET|PATCH|DELETE /repos/{owner}/{repo}``. Each repository is a bare git repository at
``<root>/<owner>/<repo>.git``, created with ``git init --bare`` (and a first commit on
``auto_init``), renamed and deleted with it."""

from __future__ import annotations

import re
import shutil
from typing import TYPE_CHECKING, Any

from fakes.github.errors import ApiError, Json, invalid, missing, read_only
from fakes.github.git import ZERO_SHA, Git
from fakes.github.routing import REPO, Request, Response, Routes
from fakes.github.shapes import repo_json
from fakes.github.state import REPO_SETTINGS, Owner, Repo
from fakes.github.values import iso, now, optional_str

_REPO_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")

if TYPE_CHECKING:
    from fakes.github.api import GitHubApi

routes = Routes()


@routes("POST", r"/orgs/(?P<org>[^/]+)/repos")
def create_org_repo(api: GitHubApi, req: Request) -> Response:
    return create_repo(api, api.org(req.args["org"]), req.body)


@routes("POST", r"/user/repos")
def create_user_repo(api: GitHubApi, req: Request) -> Response:
    return create_repo(api, api.user, req.body)


def create_repo(api: GitHubApi, owner: Owner, body: Json) -> Response:
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise missing("Repository", "name")
    _check_repo_name(api, owner, name)
    private, visibility = _visibility(owner, body, (False, "public"))
    created = iso(now())
    repo = Repo(
        id=api.next_repo_id,
        owner=owner,
        name=name,
        private=private,
        visibility=visibility,
        description=optional_str(body, "description", "Repository"),
        default_branch="main",
        created_at=created,
        updated_at=created,
        pushed_at=created,
    )
    repo.settings.update(_settings(body))
    api.next_repo_id += 1
    git = Git.init(api.repo_path(repo), repo.default_branch)
    if body.get("auto_init"):
        _initial_commit(api, repo, git)
    api.repos[repo.full_name.lower()] = repo
    return Response(201, repo_json(api, repo), {"Location": api.api_url(repo)})


def _check_repo_name(api: GitHubApi, owner: Owner, name: str, current: Repo | None = None) -> None:
    if not _REPO_NAME.match(name) or name in (".", ".."):
        raise ApiError(
            422,
            "Repository creation failed.",
            [
                {
                    "resource": "Repository",
                    "code": "custom",
                    "field": "name",
                    "message": "name is invalid",
                }
            ],
        )
    existing = api.find_repo(owner.login, name)
    if existing is not None and existing is not current:
        raise ApiError(
            422,
            "Repository creation failed.",
            [
                {
                    "resource": "Repository",
                    "code": "custom",
                    "field": "name",
                    "message": "name already exists on this account",
                }
            ],
        )


def _initial_commit(api: GitHubApi, repo: Repo, git: Git) -> None:
    blob = git.write_blob(f"# {repo.name}\n".encode())
    tree = git.mktree([("100644", "blob", blob, "README.md")])
    author = api.user_signature()
    commit = git.commit_tree(tree, [], "Initial commit", author, author)
    git.update_ref(f"refs/heads/{repo.default_branch}", commit, ZERO_SHA)


@routes("GET", REPO)
def get_repo(api: GitHubApi, req: Request) -> Response:
    return Response(200, repo_json(api, api.repo(req)))


@routes("PATCH", REPO)
def update_repo(api: GitHubApi, req: Request) -> Response:
    repo, body = api.repo(req), req.body
    if repo.archived and body.get("archived") is not False:
        raise read_only()
    name = body.get("name", repo.name)
    if not isinstance(name, str):
        raise invalid("Repository", "name")
    if name != repo.name:
        _check_repo_name(api, repo.owner, name, current=repo)
    private, visibility = _visibility(repo.owner, body, (repo.private, repo.visibility))
    description = optional_str(body, "description", "Repository", repo.description)
    default_branch = _checked_default_branch(api, repo, body.get("default_branch"))
    archived = body.get("archived", repo.archived)
    if not isinstance(archived, bool):
        raise invalid("Repository", "archived")
    repo.settings.update(_settings(body))
    if name != repo.name:
        _rename(api, repo, name)
    repo.private, repo.visibility, repo.description = private, visibility, description
    repo.archived, repo.updated_at = archived, iso(now())
    if default_branch != repo.default_branch:
        repo.default_branch = default_branch
        api.git(repo).set_head(default_branch)
    return Response(200, repo_json(api, repo))


def _checked_default_branch(api: GitHubApi, repo: Repo, branch: Any) -> str:
    if branch is None or branch == repo.default_branch:
        return repo.default_branch
    git = api.git(repo)
    if not isinstance(branch, str) or (
        not git.is_empty() and git.ref(f"refs/heads/{branch}") is None
    ):
        raise invalid("Repository", "default_branch", f"Branch {branch!r} does not exist")
    return branch


def _rename(api: GitHubApi, repo: Repo, name: str) -> None:
    old_path = api.repo_path(repo)
    del api.repos[repo.full_name.lower()]
    repo.name = name
    old_path.rename(api.repo_path(repo))
    api.repos[repo.full_name.lower()] = repo


@routes("DELETE", REPO)
def delete_repo(api: GitHubApi, req: Request) -> Response:
    repo = api.repo(req)
    shutil.rmtree(api.repo_path(repo))
    del api.repos[repo.full_name.lower()]
    return Response(204)


def _visibility(owner: Owner, body: Json, current: tuple[bool, str]) -> tuple[bool, str]:
    visibility, private = body.get("visibility"), body.get("private")
    if visibility is not None:
        allowed = (
            ("public", "private", "internal")
            if owner.type == "Organization"
            else (
                "public",
                "private",
            )
        )
        if visibility not in allowed:
            raise invalid("Repository", "visibility", f"visibility must be one of {allowed}")
        return visibility != "public", str(visibility)
    if private is not None:
        if not isinstance(private, bool):
            raise invalid("Repository", "private")
        return private, "private" if private else "public"
    return current


def _settings(body: Json) -> Json:
    """The repository settings (``has_issues``, ``homepage``, ...) present in ``body``."""
    out: Json = {}
    for key, default in REPO_SETTINGS.items():
        if body.get(key) is not None:
            expected = str if key == "homepage" else type(default)
            if not isinstance(body[key], expected):
                raise invalid("Repository", key)
            out[key] = body[key]
    return out
