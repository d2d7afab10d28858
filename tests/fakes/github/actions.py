"""GitHub Actions, read side: workflows and their runs, as
https://docs.github.com/rest/actions/workflows and
https://docs.github.com/rest/actions/workflow-runs document them:

* ``GET /repos/{o}/{r}/actions/workflows`` (``{total_count, workflows}``) and
  ``GET .../actions/workflows/{workflow_id}``, the id being the numeric id or the file name
  (``ci.yaml``);
* ``GET /repos/{o}/{r}/actions/runs`` and ``GET .../actions/workflows/{workflow_id}/runs``
  (``{total_count, workflow_runs}``, newest first, paged like every GitHub list) with the
  documented filters ``branch``, ``event``, ``status`` (a run's status *or* its conclusion,
  one of the documented values, else 422), ``head_sha``, ``actor``, ``check_suite_id`` and
  ``exclude_pull_requests``; ``GET .../actions/runs/{run_id}``.

A run's ``pull_requests`` are the open pull requests whose head is the run's branch at the run's
commit (``[]`` with ``exclude_pull_requests=true``). Runs are not started by pushes: a test
plays the runner through :class:`fakes.github.runner.ActionsRunner`. Every run's ``actor`` is
the token's user. Not modelled: the ``created`` filter (a request using it is the fake's
internal error, so a test cannot pass by the filter being ignored), jobs, logs, artifacts,
re-running or cancelling through the API, enabling or disabling workflows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from fakes.github.errors import ApiError, Json, not_found
from fakes.github.paging import paginate
from fakes.github.pulls import sync
from fakes.github.routing import REPO, Request, Response, Routes
from fakes.github.shapes import owner_json
from fakes.github.state import Repo, Workflow, WorkflowRun

if TYPE_CHECKING:
    from fakes.github.api import GitHubApi

_RUNS_DOCS = "https://docs.github.com/rest/actions/workflow-runs"

# A run's own states, and the conclusions of a completed one (the check-run values, and
# ``startup_failure`` for a workflow file GitHub could not start).
RUN_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CONCLUSIONS = (
    "success",
    "failure",
    "neutral",
    "cancelled",
    "skipped",
    "timed_out",
    "action_required",
    "stale",
    "startup_failure",
)
# What the ``status`` filter takes: the documented enum, a status or a conclusion.
_STATUS_FILTER = (*RUN_STATUSES, *CONCLUSIONS)

routes = Routes()


@routes("GET", REPO + r"/actions/workflows")
def list_workflows(api: GitHubApi, req: Request) -> Response:
    repo = api.repo(req)
    workflows = sorted(repo.workflows.values(), key=lambda w: w.id)
    page, headers = paginate(workflows, req.query, api.api_url(repo, "/actions/workflows"))
    body = {"total_count": len(workflows), "workflows": [workflow_json(api, repo, w) for w in page]}
    return Response(200, body, headers)


@routes("GET", REPO + r"/actions/workflows/(?P<workflow_id>[^/]+)/runs")
def list_workflow_runs(api: GitHubApi, req: Request) -> Response:
    repo = api.repo(req)
    workflow = find_workflow(repo, req.args["workflow_id"])
    runs = [run for run in repo.runs.values() if run.workflow_id == workflow.id]
    url = api.api_url(repo, f"/actions/workflows/{req.args['workflow_id']}/runs")
    return _runs_page(api, repo, runs, req.query, url)


@routes("GET", REPO + r"/actions/workflows/(?P<workflow_id>[^/]+)")
def get_workflow(api: GitHubApi, req: Request) -> Response:
    repo = api.repo(req)
    return Response(200, workflow_json(api, repo, find_workflow(repo, req.args["workflow_id"])))


@routes("GET", REPO + r"/actions/runs")
def list_runs(api: GitHubApi, req: Request) -> Response:
    repo = api.repo(req)
    url = api.api_url(repo, "/actions/runs")
    return _runs_page(api, repo, list(repo.runs.values()), req.query, url)


@routes("GET", REPO + r"/actions/runs/(?P<run_id>\d+)")
def get_run(api: GitHubApi, req: Request) -> Response:
    repo = api.repo(req)
    run = repo.runs.get(int(req.args["run_id"]))
    if run is None:
        raise not_found()
    with_pulls = not _flag(req.query.get("exclude_pull_requests"))
    pulls = _pulls(api, repo, [run] if with_pulls else [])
    return Response(200, run_json(api, repo, run, pulls.get(run.id, [])))


def find_workflow(repo: Repo, workflow_id: str) -> Workflow:
    """The workflow a path names by its numeric id or by its file name (404 when neither)."""
    for workflow in repo.workflows.values():
        if workflow_id in (str(workflow.id), workflow.file_name):
            return workflow
    raise not_found()


def _runs_page(
    api: GitHubApi, repo: Repo, runs: list[WorkflowRun], query: dict[str, str], url: str
) -> Response:
    if "created" in query:
        raise NotImplementedError("FakeGitHub does not model the workflow runs' created filter")
    status = query.get("status")
    if status is not None and status not in _STATUS_FILTER:
        error = {"resource": "WorkflowRun", "field": "status", "code": "invalid"}
        raise ApiError(422, "Validation Failed", [error], _RUNS_DOCS)
    if query.get("actor", api.user.login).lower() != api.user.login.lower():
        runs = []  # every run's actor is the token's user
    wanted = {
        "head_branch": query.get("branch"),
        "event": query.get("event"),
        "head_sha": query.get("head_sha"),
        "check_suite_id": query.get("check_suite_id"),
        "status": status,
    }
    found = [
        run for run in runs if all(v is None or v in _values(run, k) for k, v in wanted.items())
    ]
    found.sort(key=lambda run: run.id, reverse=True)  # newest first: ids grow with creation
    page, headers = paginate(found, query, url)
    with_pulls = not _flag(query.get("exclude_pull_requests"))
    pulls = _pulls(api, repo, page if with_pulls else [])
    items = [run_json(api, repo, run, pulls.get(run.id, [])) for run in page]
    return Response(200, {"total_count": len(found), "workflow_runs": items}, headers)


def _values(run: WorkflowRun, key: str) -> tuple[str | None, ...]:
    """What a filter compares with: the status filter takes a status or a conclusion."""
    if key == "status":
        return run.status, run.conclusion
    if key == "check_suite_id":
        return (str(check_suite_id(run)),)
    return (getattr(run, key),)


def _flag(value: str | None) -> bool:
    """A boolean query parameter: PyGithub sends ``1`` or ``True``, others ``true``."""
    return value is not None and value.lower() in ("1", "true")


def _pulls(api: GitHubApi, repo: Repo, runs: list[WorkflowRun]) -> dict[int, list[Json]]:
    """Each run's pull requests ("pull-request-minimal"), by run id: the open ones whose head
    is the run's branch at the run's commit, once they have followed their branches."""
    if not runs or not repo.pulls:
        return {}
    sync(api, repo, api.git(repo))

    def side(branch: str, sha: str) -> Json:
        ref = {"id": repo.id, "url": api.api_url(repo), "name": repo.name}
        return {"ref": branch, "sha": sha, "repo": ref}

    return {
        run.id: [
            {
                "id": pr.id,
                "number": pr.number,
                "url": api.api_url(repo, f"/pulls/{pr.number}"),
                "head": side(pr.head, pr.head_sha),
                "base": side(pr.base, pr.base_sha),
            }
            for pr in repo.pulls.values()
            if pr.state == "open" and (pr.head, pr.head_sha) == (run.head_branch, run.head_sha)
        ]
        for run in runs
    }


def check_suite_id(run: WorkflowRun) -> int:
    """Each run has its own check suite; the fake numbers them after the run."""
    return 800_000_000 + run.id


def workflow_json(api: GitHubApi, repo: Repo, workflow: Workflow) -> Json:
    html = api.html_url(repo)
    return {
        "id": workflow.id,
        "node_id": f"W_{workflow.id}",
        "name": workflow.name,
        "path": workflow.path,
        "state": workflow.state,
        "created_at": workflow.created_at,
        "updated_at": workflow.updated_at,
        "url": api.api_url(repo, f"/actions/workflows/{workflow.id}"),
        "html_url": f"{html}/blob/{repo.default_branch}/{workflow.path}",
        "badge_url": f"{html}/workflows/{quote(workflow.name)}/badge.svg",
    }


def run_json(api: GitHubApi, repo: Repo, run: WorkflowRun, pulls: list[Json]) -> Json:
    """The "workflow-run" shape of the REST docs."""
    url = api.api_url(repo, f"/actions/runs/{run.id}")
    suite = check_suite_id(run)
    previous = f"{url}/attempts/{run.run_attempt - 1}" if run.run_attempt > 1 else None
    actor = owner_json(api, api.user)
    return {
        "id": run.id,
        "name": run.name,
        "node_id": f"WFR_{run.id}",
        "check_suite_id": suite,
        "check_suite_node_id": f"CS_{suite}",
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": run.path,
        "display_title": run.display_title,
        "run_number": run.run_number,
        "run_attempt": run.run_attempt,
        "event": run.event,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": run.workflow_id,
        "url": url,
        "html_url": api.html_url(repo, f"/actions/runs/{run.id}"),
        "pull_requests": pulls,
        "referenced_workflows": [],
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "run_started_at": run.run_started_at,
        "actor": actor,
        "triggering_actor": actor,
        "jobs_url": f"{url}/jobs",
        "logs_url": f"{url}/logs",
        "check_suite_url": api.api_url(repo, f"/check-suites/{suite}"),
        "artifacts_url": f"{url}/artifacts",
        "cancel_url": f"{url}/cancel",
        "rerun_url": f"{url}/rerun",
        "previous_attempt_url": previous,
        "workflow_url": api.api_url(repo, f"/actions/workflows/{run.workflow_id}"),
        "head_commit": run.head_commit,
        "repository": _minimal_repo(api, repo),
        "head_repository": _minimal_repo(api, repo),
    }


def _minimal_repo(api: GitHubApi, repo: Repo) -> Json:
    return {
        "id": repo.id,
        "node_id": f"R_{repo.id}",
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": owner_json(api, repo.owner),
        "html_url": api.html_url(repo),
        "description": repo.description,
        "fork": False,
        "url": api.api_url(repo),
    }
