"""The JSON shapes of GitHub's resources, as the REST docs show them: accounts, repositories,
Git Data objects (trees, commits, refs), branches, contents and pull requests."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from fakes.github.errors import Json
from fakes.github.git import CommitData, Git, TreeEntry
from fakes.github.state import Owner, PullRequest, Repo
from fakes.github.values import b64

if TYPE_CHECKING:
    from fakes.github.api import GitHubApi


def owner_json(api: GitHubApi, owner: Owner) -> Json:
    kind = "users" if owner.type == "User" else "orgs"
    return {
        "login": owner.login,
        "id": owner.id,
        "node_id": f"{'U' if owner.type == 'User' else 'O'}_{owner.id}",
        "type": owner.type,
        "site_admin": False,
        "url": f"{api.base_url}/{kind}/{owner.login}",
        "html_url": f"https://github.com/{owner.login}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{owner.id}?v=4",
        "repos_url": f"{api.base_url}/{kind}/{owner.login}/repos",
    }


def user_json(api: GitHubApi, owner: Owner) -> Json:
    repos = [r for r in api.repos.values() if r.owner is owner]
    return {
        **owner_json(api, owner),
        "name": owner.login,
        "email": None,
        "public_repos": sum(not r.private for r in repos),
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z",
    }


def org_json(api: GitHubApi, owner: Owner) -> Json:
    return {**user_json(api, owner), "description": None, "is_verified": False}


def repo_json(api: GitHubApi, repo: Repo) -> Json:
    url = api.api_url(repo)
    out: Json = {
        "id": repo.id,
        "node_id": f"R_{repo.id}",
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": owner_json(api, repo.owner),
        "private": repo.private,
        "visibility": repo.visibility,
        "description": repo.description,
        "fork": False,
        "url": url,
        "html_url": api.html_url(repo),
        "clone_url": api.repo_path(repo).as_uri(),
        "git_url": f"git://github.com/{repo.full_name}.git",
        "ssh_url": f"git@github.com:{repo.full_name}.git",
        "svn_url": api.html_url(repo),
        "mirror_url": None,
        "default_branch": repo.default_branch,
        "archived": repo.archived,
        "disabled": False,
        "topics": list(repo.topics),
        "created_at": repo.created_at,
        "updated_at": repo.updated_at,
        "pushed_at": repo.pushed_at,
        "size": 0,
        "language": None,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "open_issues_count": 0,
        "permissions": {
            "admin": True,
            "maintain": True,
            "push": True,
            "triage": True,
            "pull": True,
        },
        "branches_url": f"{url}/branches{{/branch}}",
        "contents_url": f"{url}/contents/{{+path}}",
        "git_refs_url": f"{url}/git/refs{{/sha}}",
        "trees_url": f"{url}/git/trees{{/sha}}",
        "blobs_url": f"{url}/git/blobs{{/sha}}",
        "git_commits_url": f"{url}/git/commits{{/sha}}",
        **repo.settings,
    }
    if repo.owner.type == "Organization":
        out["organization"] = owner_json(api, repo.owner)
    return out


def tree_entry_json(api: GitHubApi, repo: Repo, entry: TreeEntry) -> Json:
    out: Json = {"path": entry.path, "mode": entry.mode, "type": entry.type, "sha": entry.sha}
    if entry.type == "blob":
        out["size"] = entry.size
    if entry.type in ("blob", "tree"):
        out["url"] = api.api_url(repo, f"/git/{entry.type}s/{entry.sha}")
    return out


def tree_json(api: GitHubApi, repo: Repo, git: Git, sha: str, recursive: bool) -> Json:
    entries = git.ls_tree(sha, recursive=recursive)
    return {
        "sha": sha,
        "url": api.api_url(repo, f"/git/trees/{sha}"),
        "tree": [tree_entry_json(api, repo, e) for e in entries],
        "truncated": False,
    }


def commit_json(api: GitHubApi, repo: Repo, commit: CommitData) -> Json:
    return {
        "sha": commit.sha,
        "node_id": f"C_{commit.sha}",
        "url": api.api_url(repo, f"/git/commits/{commit.sha}"),
        "html_url": api.html_url(repo, f"/commit/{commit.sha}"),
        "author": commit.author.to_json(),
        "committer": commit.committer.to_json(),
        "message": commit.message,
        "tree": {"sha": commit.tree, "url": api.api_url(repo, f"/git/trees/{commit.tree}")},
        "parents": [
            {
                "sha": p,
                "url": api.api_url(repo, f"/git/commits/{p}"),
                "html_url": api.html_url(repo, f"/commit/{p}"),
            }
            for p in commit.parents
        ],
        "verification": {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    }


def ref_json(api: GitHubApi, repo: Repo, git: Git, name: str, sha: str) -> Json:
    kind = git.object_type(sha) or "commit"
    return {
        "ref": name,
        "node_id": f"REF_{repo.id}_{name}",
        "url": api.api_url(repo, f"/git/{quote(name)}"),
        "object": {
            "sha": sha,
            "type": kind,
            "url": api.api_url(repo, f"/git/{kind}s/{sha}"),
        },
    }


def branch_json(api: GitHubApi, repo: Repo, git: Git, name: str, sha: str) -> Json:
    commit = commit_json(api, repo, git.read_commit(sha))
    protection = repo.protections.get(name)
    checks = (protection or {}).get("required_status_checks") or {}
    return {
        "name": name,
        "commit": {
            "sha": sha,
            "node_id": commit["node_id"],
            "url": api.api_url(repo, f"/commits/{sha}"),
            "html_url": commit["html_url"],
            "commit": {k: v for k, v in commit.items() if k not in ("sha", "node_id")},
            "parents": commit["parents"],
        },
        "_links": {
            "self": api.api_url(repo, f"/branches/{quote(name)}"),
            "html": api.html_url(repo, f"/tree/{name}"),
        },
        "protected": protection is not None,
        "protection": {
            "enabled": protection is not None,
            "required_status_checks": {
                "enforcement_level": "non_admins" if checks else "off",
                "contexts": checks.get("contexts", []),
                "checks": checks.get("checks", []),
            },
        },
        "protection_url": api.api_url(repo, f"/branches/{quote(name)}/protection"),
    }


def content_json(
    api: GitHubApi, repo: Repo, git: Git, ref: str, entry: TreeEntry, full: bool
) -> Json:
    kind = {"tree": "dir", "commit": "submodule"}.get(entry.type, "file")
    if entry.mode == "120000":
        kind = "symlink"
    url = api.api_url(repo, f"/contents/{quote(entry.path)}?ref={quote(ref, safe='')}")
    git_url = api.api_url(repo, f"/git/{'trees' if kind == 'dir' else 'blobs'}/{entry.sha}")
    html_url = api.html_url(repo, f"/{'tree' if kind == 'dir' else 'blob'}/{ref}/{entry.path}")
    raw = f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{entry.path}"
    out: Json = {
        "type": kind,
        "size": entry.size or 0,
        "name": entry.path.rpartition("/")[2],
        "path": entry.path,
        "sha": entry.sha,
        "url": url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": raw if kind == "file" else None,
        "_links": {"self": url, "git": git_url, "html": html_url},
    }
    if full and kind == "file":
        out["content"] = b64(git.read_blob(entry.sha))
        out["encoding"] = "base64"
    if full and kind == "symlink":
        out["target"] = git.read_blob(entry.sha).decode("utf-8", errors="replace")
    return out


def pull_json(api: GitHubApi, repo: Repo, pr: PullRequest) -> Json:
    """A pull request as the list endpoint renders it ("pull-request-simple"); the single
    pull request adds its merge state (see :mod:`fakes.github.pulls`)."""
    url = api.api_url(repo, f"/pulls/{pr.number}")
    html = api.html_url(repo, f"/pull/{pr.number}")
    issue = api.api_url(repo, f"/issues/{pr.number}")
    links = {
        "self": url,
        "html": html,
        "issue": issue,
        "comments": f"{issue}/comments",
        "review_comments": f"{url}/comments",
        "review_comment": api.api_url(repo, "/pulls/comments{/number}"),
        "commits": f"{url}/commits",
        "statuses": api.api_url(repo, f"/statuses/{pr.head_sha}"),
    }
    return {
        "url": url,
        "id": pr.id,
        "node_id": f"PR_{pr.id}",
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue,
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "number": pr.number,
        "state": pr.state,
        "locked": False,
        "title": pr.title,
        "user": owner_json(api, api.user),
        "body": pr.body,
        "labels": [],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": pr.created_at,
        "updated_at": pr.updated_at,
        "closed_at": pr.closed_at,
        "merged_at": pr.merged_at,
        "merge_commit_sha": pr.merge_commit_sha,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": _pull_ref_json(api, repo, pr.head, pr.head_sha),
        "base": _pull_ref_json(api, repo, pr.base, pr.base_sha),
        "_links": {rel: {"href": href} for rel, href in links.items()},
        "author_association": "OWNER" if repo.owner is api.user else "MEMBER",
        "auto_merge": None,
        "draft": pr.draft,
    }


def _pull_ref_json(api: GitHubApi, repo: Repo, branch: str, sha: str) -> Json:
    return {
        "label": f"{repo.owner.login}:{branch}",
        "ref": branch,
        "sha": sha,
        "user": owner_json(api, repo.owner),
        "repo": repo_json(api, repo),
    }
