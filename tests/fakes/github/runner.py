"""The write side of GitHub Actions, for tests: the fake starts no runs when a branch is pushed,
so a test plays GitHub's runner. It registers a workflow file, reports a run of it for a branch
(at the branch's head commit unless it names one) and moves the run through its states
(``queued``, ``in_progress``, then ``completed`` with a conclusion) or re-runs it (a new
attempt). :mod:`fakes.github.actions` serves what it wrote."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fakes.github.actions import CONCLUSIONS, RUN_STATUSES
from fakes.github.errors import Json
from fakes.github.state import Repo, Workflow, WorkflowRun
from fakes.github.values import iso, now

if TYPE_CHECKING:
    from fakes.github.api import GitHubApi

WORKFLOWS_DIR = ".github/workflows/"


class ActionsRunner:
    """Helpers for tests, part of :class:`fakes.github.FakeGitHub`. They skip HTTP (no auth,
    rate limit or faults, nothing in ``calls``); a wrong argument raises ``ValueError``."""

    if TYPE_CHECKING:

        @property
        def api(self) -> GitHubApi: ...

    def add_workflow(self, owner: str, repo: str, path: str, name: str | None = None) -> int:
        """Register the workflow file ``path`` (``.github/workflows/<file>.yml|.yaml``) named
        ``name`` (GitHub names a workflow without ``name:`` after its path) and return its
        id. The file need not exist in the repository."""
        file_name = path.removeprefix(WORKFLOWS_DIR)
        if file_name == path or "/" in file_name or not file_name.endswith((".yml", ".yaml")):
            raise ValueError(f"a workflow is a .yml or .yaml file in {WORKFLOWS_DIR}: {path!r}")
        with self.api.lock:
            found = self._repo(owner, repo)
            if any(w.path == path for w in found.workflows.values()):
                raise ValueError(f"{found.full_name} already has the workflow {path}")
            created = iso(now())
            workflow = Workflow(self.api.next_workflow_id, name or path, path, created, created)
            self.api.next_workflow_id += 1
            found.workflows[workflow.id] = workflow
            return workflow.id

    def add_run(
        self,
        owner: str,
        repo: str,
        workflow_path: str,
        *,
        branch: str,
        status: str,
        conclusion: str | None = None,
        sha: str | None = None,
        event: str = "push",
    ) -> int:
        """Report a new run of the workflow at ``workflow_path`` (see :meth:`add_workflow`) for
        ``branch`` at commit ``sha`` (default: the branch's head, which must exist) and return
        its id. ``conclusion`` goes with ``status="completed"`` only, and then it is required."""
        _check_state(status, conclusion)
        with self.api.lock:
            found = self._repo(owner, repo)
            workflow = next((w for w in found.workflows.values() if w.path == workflow_path), None)
            if workflow is None:
                raise ValueError(f"{found.full_name} has no workflow {workflow_path}: add it")
            git = self.api.git(found)
            head = sha or git.ref(f"refs/heads/{branch}")
            if head is None:
                raise ValueError(f"{found.full_name} has no branch {branch!r}")
            commit = self._simple_commit(found, head)
            created = iso(now())
            run = WorkflowRun(
                id=self.api.next_run_id,
                workflow_id=workflow.id,
                name=workflow.name,
                path=workflow.path,
                run_number=workflow.next_run_number,
                event=event,
                head_branch=branch,
                head_sha=head,
                head_commit=commit,
                display_title=commit["message"].split("\n", 1)[0] if commit else workflow.name,
                status=status,
                conclusion=conclusion,
                created_at=created,
                updated_at=created,
                run_started_at=created,
            )
            self.api.next_run_id += 1
            workflow.next_run_number += 1
            found.runs[run.id] = run
            return run.id

    def update_run(
        self, owner: str, repo: str, run_id: int, *, status: str, conclusion: str | None = None
    ) -> None:
        """Move run ``run_id`` to ``status`` (and ``conclusion``, with "completed")."""
        _check_state(status, conclusion)
        with self.api.lock:
            run = self._run(owner, repo, run_id)
            run.status, run.conclusion, run.updated_at = status, conclusion, iso(now())

    def rerun_run(self, owner: str, repo: str, run_id: int) -> None:
        """Re-run run ``run_id``, as "Re-run all jobs" does: the same run (id, number) in a
        new attempt (``run_attempt`` + 1, ``previous_attempt_url``), queued again."""
        with self.api.lock:
            run = self._run(owner, repo, run_id)
            run.run_attempt += 1
            run.status, run.conclusion = "queued", None
            run.updated_at = run.run_started_at = iso(now())

    def _repo(self, owner: str, repo: str) -> Repo:
        found = self.api.find_repo(owner, repo)
        if found is None:
            raise ValueError(f"no repository {owner}/{repo}")
        return found

    def _run(self, owner: str, repo: str, run_id: int) -> WorkflowRun:
        found = self._repo(owner, repo).runs.get(run_id)
        if found is None:
            raise ValueError(f"{owner}/{repo} has no workflow run {run_id}")
        return found

    def _simple_commit(self, repo: Repo, sha: str) -> Json | None:
        """The "simple-commit" a run shows as ``head_commit``; None for a commit the
        repository does not hold."""
        git = self.api.git(repo)
        if git.object_type(sha) != "commit":
            return None
        commit = git.read_commit(sha)
        return {
            "id": commit.sha,
            "tree_id": commit.tree,
            "message": commit.message,
            "timestamp": iso(commit.committer.when),
            "author": {"name": commit.author.name, "email": commit.author.email},
            "committer": {"name": commit.committer.name, "email": commit.committer.email},
        }


def _check_state(status: str, conclusion: str | None) -> None:
    if status not in RUN_STATUSES:
        raise ValueError(f"a run's status is one of {RUN_STATUSES}, not {status!r}")
    if status == "completed" and conclusion not in CONCLUSIONS:
        raise ValueError(f"a completed run's conclusion is one of {CONCLUSIONS}")
    if status != "completed" and conclusion is not None:
        raise ValueError(f"only a completed run has a conclusion, not a {status} one")
