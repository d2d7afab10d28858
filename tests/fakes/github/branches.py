"""Branches and their protection: ``GET /repos/{o}/{r}/branches/{branch}`` and
``GET|PUT|DELETE .../branches/{branch}/protection``. Protection rules are validated, stored and
returned as GitHub renders them, but not enforced."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fakes.github.errors import Json, invalid, missing, not_found, unprocessable
from fakes.github.routing import REPO, Request, Response, Routes
from fakes.github.shapes import branch_json
from fakes.github.state import Repo

_PROTECTION_REQUIRED = (
    "required_status_checks",
    "enforce_admins",
    "required_pull_request_reviews",
    "restrictions",
)
_PROTECTION_FLAGS = (
    "required_linear_history",
    "allow_force_pushes",
    "allow_deletions",
    "block_creations",
    "required_conversation_resolution",
    "lock_branch",
    "allow_fork_syncing",
)

if TYPE_CHECKING:
    from fakes.github.api import GitHubApi

routes = Routes()


@routes("GET", REPO + r"/branches/(?P<branch>.+)/protection")
def get_protection(api: GitHubApi, req: Request) -> Response:
    repo = api.repo(req)
    branch = req.args["branch"]
    api.branch_head(repo, api.git(repo), branch)
    if branch not in repo.protections:
        raise not_found("Branch not protected")
    return Response(200, repo.protections[branch])


@routes("PUT", REPO + r"/branches/(?P<branch>.+)/protection")
def put_protection(api: GitHubApi, req: Request) -> Response:
    repo = api.writable_repo(req)
    branch = req.args["branch"]
    api.branch_head(repo, api.git(repo), branch)
    base = api.api_url(repo, f"/branches/{quote(branch)}/protection")
    repo.protections[branch] = _protection_json(repo, req.body, base)
    return Response(200, repo.protections[branch])


@routes("DELETE", REPO + r"/branches/(?P<branch>.+)/protection")
def delete_protection(api: GitHubApi, req: Request) -> Response:
    repo = api.writable_repo(req)
    branch = req.args["branch"]
    api.branch_head(repo, api.git(repo), branch)
    if repo.protections.pop(branch, None) is None:
        raise not_found("Branch not protected")
    return Response(204)


@routes("GET", REPO + r"/branches/(?P<branch>.+)")
def get_branch(api: GitHubApi, req: Request) -> Response:
    repo = api.repo(req)
    git = api.git(repo)
    branch = req.args["branch"]
    sha = api.branch_head(repo, git, branch)
    return Response(200, branch_json(api, repo, git, branch, sha))


def _protection_json(repo: Repo, body: Json, base: str) -> Json:
    """Validate a PUT protection body (all four required keys, nullable) and render it."""
    for key in _PROTECTION_REQUIRED:
        if key not in body:
            raise missing("Protection", key)
    out: Json = {"url": base}
    checks = _status_checks(body["required_status_checks"], base)
    if checks is not None:
        out["required_status_checks"] = checks
    reviews = body["required_pull_request_reviews"]
    if reviews is not None:
        out["required_pull_request_reviews"] = _reviews(reviews, base)
    restrictions = body["restrictions"]
    if restrictions is not None:
        out["restrictions"] = _restrictions(repo, restrictions, base)
    enforce_admins = body["enforce_admins"]
    if enforce_admins is not None and not isinstance(enforce_admins, bool):
        raise invalid("Protection", "enforce_admins")
    out["required_signatures"] = {"url": f"{base}/required_signatures", "enabled": False}
    out["enforce_admins"] = {"url": f"{base}/enforce_admins", "enabled": bool(enforce_admins)}
    for flag in _PROTECTION_FLAGS:
        value = body.get(flag)
        if value is not None and not isinstance(value, bool):
            raise invalid("Protection", flag)
        out[flag] = {"enabled": bool(value)}
    return out


def _status_checks(value: Any, base: str) -> Json | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("strict"), bool):
        raise missing("Protection", "required_status_checks.strict")
    contexts, checks = value.get("contexts"), value.get("checks")
    if checks is not None:
        if not isinstance(checks, list) or not all(
            isinstance(c, dict) and isinstance(c.get("context"), str) for c in checks
        ):
            raise invalid("Protection", "required_status_checks.checks")
        checks = [{"context": c["context"], "app_id": c.get("app_id")} for c in checks]
        contexts = [c["context"] for c in checks]
    elif isinstance(contexts, list) and all(isinstance(c, str) for c in contexts):
        checks = [{"context": c, "app_id": None} for c in contexts]
    else:
        raise missing("Protection", "required_status_checks.contexts")
    return {
        "url": f"{base}/required_status_checks",
        "strict": value["strict"],
        "contexts": contexts,
        "checks": checks,
        "contexts_url": f"{base}/required_status_checks/contexts",
    }


def _reviews(value: Any, base: str) -> Json:
    if not isinstance(value, dict):
        raise invalid("Protection", "required_pull_request_reviews")
    count = value.get("required_approving_review_count", 1)
    if not isinstance(count, int) or not 0 <= count <= 6:
        raise invalid("Protection", "required_approving_review_count")
    out: Json = {
        "url": f"{base}/required_pull_request_reviews",
        "dismiss_stale_reviews": bool(value.get("dismiss_stale_reviews", False)),
        "require_code_owner_reviews": bool(value.get("require_code_owner_reviews", False)),
        "required_approving_review_count": count,
        "require_last_push_approval": bool(value.get("require_last_push_approval", False)),
    }
    for key in ("dismissal_restrictions", "bypass_pull_request_allowances"):
        if isinstance(value.get(key), dict):
            out[key] = _actors(value[key])
    return out


def _restrictions(repo: Repo, value: Any, base: str) -> Json:
    if repo.owner.type != "Organization":
        raise unprocessable(
            "Only organization repositories can have users and team restrictions",
            "Protection",
            "restrictions",
        )
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("users"), list)
        or not isinstance(value.get("teams"), list)
    ):
        raise missing("Protection", "restrictions.users")
    return {"url": f"{base}/restrictions", **_actors(value)}


def _actors(value: Json) -> Json:
    return {
        "users": [{"login": u, "type": "User"} for u in value.get("users") or []],
        "teams": [{"slug": t, "name": t} for t in value.get("teams") or []],
        "apps": [{"slug": a} for a in value.get("apps") or []],
    }
