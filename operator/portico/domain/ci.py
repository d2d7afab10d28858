"""CI runs (GitHub Actions) and the repository's state, decided: what GitHub answered
becomes `status.ci`, the `ci` health signal and the RepositoryMissing / RepositoryArchived
conditions. Pure: the poller (reconcilers/github_poll.py) reads GitHub, the `ci` step
(reconcilers/ci_step.py) writes what this module decides.

Which runs count. A run counts when it ran on the default branch for a push, a schedule or
by hand (runs for pull requests are left out: a fork's branch may be called main too), and
its workflow is one `github.ci.workflows` names (by file name, path or name; none named:
every workflow). Each workflow's newest run decides for that workflow; a cancelled, skipped
or stale run decides nothing (a newer push cancels the run before it, so "cancelled" says
nothing about the code), and the run before it does. The worst workflow decides the signal,
so a red `ci.yml` is not hidden by a green `docs.yml` that ran later on the same commit.

| the deciding run | signal |
|---|---|
| completed: success, or neutral | Healthy |
| completed: failure, timed_out, startup_failure | Degraded |
| queued, in_progress, waiting, pending, requested; completed: action_required | Progressing |
| completed with a conclusion GitHub may add later | Unknown (Portico cannot judge it) |
| no run that counts | no signal, no `status.ci` |

`status.ci.lastConclusion` is the verdict of the newest *completed* runs, for whoever must
not flap on every push (the scorecard): each workflow's newest run that ended with a
conclusion (not cancelled, skipped, stale or waiting for an approval) counts, the worst
decides (a failure, timed_out or startup_failure before a conclusion Portico cannot judge,
before success or neutral), and the newest of the worst is shown. A run under way changes
the signal (Progressing), not `lastConclusion`.

`status.ci` holds the deciding run and a message; it carries no time of Portico's own (only
the run's `updatedAt`), so an unchanged answer is an unchanged status and no write. The
signal is derived from `status.ci` alone (`ci_signal`), so a restarted operator shows the
same signal from the status it wrote before, until GitHub answers again.

Which repository is read at all is a tenancy question (`readable_repository`): the one
Portico scaffolded for the Component, or one whose owner the namespace's
`observe.githubOwners` allows (domain/tenancy.py); the answers are written into the
namespace's own status, with Portico's token and the whole catalog's request budget.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from portico.domain.conditions import REPOSITORY_ARCHIVED, REPOSITORY_MISSING, cond
from portico.domain.delivery import github_repository, repository_url
from portico.domain.entity import EntityView
from portico.domain.health import Signal, worst
from portico.domain.tenancy import REPO_NAME, Refusal, github_read_refusal, tenant_for
from portico.models.component import ComponentSpec
from portico.models.config import CIConfig, OperatorConfig

SOURCE = "ci"
# Enough for every workflow of a few pushes, and GitHub's own default page size.
RUNS_PER_PAGE = 30
PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target"})
UNDECIDED = frozenset({"cancelled", "skipped", "stale"})

RUNNING = {
    "queued": "is queued",
    "in_progress": "is running",
    "waiting": "is waiting (for a deployment approval)",
    "pending": "is pending",
    "requested": "is requested",
}
CONCLUDED = {
    "success": ("Healthy", "passed"),
    "neutral": ("Healthy", "finished neutral"),
    "failure": ("Degraded", "failed"),
    "timed_out": ("Degraded", "timed out"),
    "startup_failure": ("Degraded", "could not start"),
    "action_required": ("Progressing", "needs someone to approve it"),
}
# How bad a completed run's verdict is, for lastConclusion: a failure outranks a conclusion
# Portico cannot judge, which outranks a pass.
LAST_RANK = {"Healthy": 0, "Unknown": 1, "Degraded": 2}
OWNER = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9]{0,99}$")
PLURAL = {
    "Healthy": "passing",
    "Progressing": "running",
    "Degraded": "failing",
    "Unknown": "unjudged",
}


@dataclass(frozen=True)
class Run:
    """What Portico keeps of one workflow run (the REST API's "workflow-run")."""

    id: int
    name: str
    path: str
    number: int
    event: str
    status: str
    conclusion: str | None
    url: str
    commit: str
    branch: str
    updated_at: str

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def workflow(self) -> str:
        return self.path or self.name

    @property
    def concluded(self) -> bool:
        """Whether the run ended with a verdict on the code (not one waiting for approval)."""
        done = self.status == "completed" and self.conclusion is not None
        return done and self.conclusion not in ("", "action_required")


@dataclass(frozen=True)
class RepoAnswer:
    """What the poller last read of one repository. None: not read yet (or not readable)."""

    found: bool | None = None  # False: 404, deleted (or out of the token's sight)
    archived: bool | None = None
    default_branch: str | None = None
    branch: str | None = None  # the branch `runs` were read for
    runs: tuple[Run, ...] | None = None  # `latest_runs` of the page


def _checked(found: tuple[str, str] | None) -> tuple[str, str] | None:
    """`found` if both parts are names GitHub accepts: they go into request paths, where a
    `/` would leave the repository (`.` and `..` never come out of github_repository)."""
    if found is None or not OWNER.match(found[0]) or not REPO_NAME.match(found[1]):
        return None
    return found


def repository_of(view: EntityView) -> tuple[str, str] | None:
    """(owner, repo) of a Component's GitHub repository: scaffolded, spec.source.github, or
    the github.com/project-slug annotation (domain/delivery.py decides); None without one.
    Whether Portico may read it is `readable_repository`'s question."""
    if not isinstance(view.spec, ComponentSpec):
        return None
    url = repository_url(view.spec, view.status, view.annotations)
    return _checked(github_repository(url)) if url else None


def scaffolded_repository(view: EntityView) -> tuple[str, str] | None:
    """The GitHub repository Portico scaffolded for this Component: status.repository.url,
    which only the scaffold step writes (a namespace editor cannot write status), for a
    repository it created or adopted by this Component's marker."""
    url = (view.status.get("repository") or {}).get("url")
    return _checked(github_repository(url)) if isinstance(url, str) and url else None


def _named_by(view: EntityView) -> str:
    """Where a repository Portico did not scaffold is named (domain/delivery.py's order)."""
    source = view.spec.source if isinstance(view.spec, ComponentSpec) else None
    if source is not None and source.github is not None:
        return "spec.source.github"
    if source is not None and source.git is not None:
        return "spec.source.git"
    return "the github.com/project-slug annotation"


def readable_repository(
    view: EntityView, labels: Mapping[str, str], config: OperatorConfig
) -> tuple[str, str] | Refusal | None:
    """The repository Portico may read for this Component, from its namespace (whose labels
    are `labels`): the one it scaffolded for it, or one whose owner the namespace's
    observe.githubOwners allows; a Refusal for any other; None without a repository."""
    found = repository_of(view)
    if found is None or found == scaffolded_repository(view):
        return found
    tenant = tenant_for(view.key.namespace, labels, config)
    named = f"{found[0]}/{found[1]}"
    return github_read_refusal(tenant, found[0], named, _named_by(view)) or found


def _run(raw: Mapping[str, Any]) -> Run | None:
    try:
        return Run(
            id=int(raw["id"]),
            name=str(raw.get("name") or raw.get("path") or ""),
            path=str(raw.get("path") or ""),
            number=int(raw.get("run_number") or 0),
            event=str(raw.get("event") or ""),
            status=str(raw.get("status") or ""),
            conclusion=raw.get("conclusion") if isinstance(raw.get("conclusion"), str) else None,
            url=str(raw.get("html_url") or ""),
            commit=str(raw.get("head_sha") or ""),
            branch=str(raw.get("head_branch") or ""),
            updated_at=str(raw.get("updated_at") or ""),
        )
    except (KeyError, TypeError, ValueError):
        return None


def latest_runs(body: Any) -> tuple[Run, ...]:
    """Each workflow's newest run that decides something and, when that one has not
    concluded (under way), also its newest run that has (for lastConclusion), newest first,
    from an answer of GET /repos/{owner}/{repo}/actions/runs. Only these are kept in memory
    (a few per repository), so the workflows named in the configuration can change without a
    new read."""
    raw = body.get("workflow_runs") if isinstance(body, Mapping) else None
    runs = [r for r in (_run(x) for x in raw or () if isinstance(x, Mapping)) if r is not None]
    kept: dict[str, list[Run]] = {}
    for run in sorted(runs, key=lambda r: r.id, reverse=True):  # ids grow with creation
        if run.event in PULL_REQUEST_EVENTS or run.conclusion in UNDECIDED:
            continue
        mine = kept.setdefault(run.workflow, [])
        if not mine or (run.concluded and not any(r.concluded for r in mine)):
            mine.append(run)
    return tuple(sorted((r for rs in kept.values() for r in rs), key=lambda r: -r.id))


def _by_workflow(runs: Iterable[Run]) -> list[list[Run]]:
    """The runs of each workflow, newest first."""
    grouped: dict[str, list[Run]] = {}
    for run in sorted(runs, key=lambda r: r.id, reverse=True):
        grouped.setdefault(run.workflow, []).append(run)
    return list(grouped.values())


def last_conclusion(workflows: Iterable[Sequence[Run]]) -> str | None:
    """The conclusion of the newest completed runs: each workflow's newest run that
    concluded, the worst deciding (any failure first), the newest of the worst; None when no
    workflow has concluded a run yet. A run under way changes nothing here."""
    last = [next((r for r in runs if r.concluded), None) for runs in workflows]
    ranked = [(LAST_RANK[verdict(r.status, r.conclusion)[0]], r.id, r) for r in last if r]
    return max(ranked, key=lambda x: x[:2])[2].conclusion if ranked else None


def counts(run: Run, workflows: Sequence[str]) -> bool:
    """Whether `github.ci.workflows` names the run's workflow (none named: every one)."""
    return not workflows or any(w in (run.path, run.file_name, run.name) for w in workflows)


def verdict(status: str | None, conclusion: str | None) -> tuple[str, str]:
    """(health status, what the run did) of a run's status and conclusion."""
    if status != "completed":
        return "Progressing", RUNNING.get(status or "", f"is {status or 'in an unknown state'}")
    if conclusion in CONCLUDED:
        return CONCLUDED[conclusion]
    return "Unknown", f"ended {conclusion or 'without a conclusion'}, which Portico cannot judge"


def ci_status(
    repository: str, branch: str | None, runs: Sequence[Run], config: CIConfig
) -> dict[str, Any] | None:
    """`status.ci`: the run that decides the signal (the newest of the worst workflows) and
    `lastConclusion` (`last_conclusion`); None without a run that counts (no CI to speak
    of: no status.ci, no signal)."""
    workflows = _by_workflow(r for r in runs if counts(r, config.workflows))
    if not workflows:
        return None
    judged = [(verdict(w[0].status, w[0].conclusion), w[0]) for w in workflows]
    status = worst(v[0] for v, _ in judged) or "Unknown"
    same = [(v, r) for v, r in judged if v[0] == status]
    (_, did), run = max(same, key=lambda vr: vr[1].id)
    last = last_conclusion(workflows)
    message = f"{run.name} {did} on {run.branch or branch} at {run.commit[:7]} (run #{run.number})"
    if status != "Healthy" and run.url:
        message += f": {run.url}"
    if len(workflows) > 1:
        names = ", ".join(sorted({r.name for _, r in same}))
        message += f"; {len(same)} of {len(workflows)} workflows {PLURAL[status]}"
        message += f": {names}" if len(same) > 1 else ""
    if last is not None and status in ("Progressing", "Unknown"):
        message += f"; last completed: {last}"
    out = {
        "repository": repository,
        "branch": run.branch or branch,
        "workflow": run.name,
        "path": run.path,
        "runId": run.id,
        "runNumber": run.number,
        "event": run.event,
        "status": run.status,
        "conclusion": run.conclusion,
        "url": run.url,
        "commit": run.commit,
        "updatedAt": run.updated_at,
        "lastConclusion": last,
        "message": message,
    }
    return {k: v for k, v in out.items() if v not in (None, "")}


def ci_signal(ci: Mapping[str, Any] | None) -> Signal | None:
    """The `ci` signal `status.ci` stands for; None without a deciding run."""
    if not ci or ci.get("runId") is None:
        return None
    status, _ = verdict(ci.get("status"), ci.get("conclusion"))
    return Signal(SOURCE, status, str(ci.get("message", "")))


def repository_conditions(repository: str, answer: RepoAnswer) -> list[dict[str, Any]]:
    """RepositoryMissing and RepositoryArchived from a read of the repository; none before
    the first read. A missing repository has no RepositoryArchived: nobody can tell."""
    if answer.found is None:
        return []
    if not answer.found:
        return [
            cond(
                REPOSITORY_MISSING,
                True,
                "RepositoryMissing",
                f"GitHub repository {repository} was not found (404): it was deleted or "
                "renamed, or the token cannot see it; fix spec.source or the "
                "github.com/project-slug annotation, or restore the repository",
            )
        ]
    found = cond(
        REPOSITORY_MISSING, False, "RepositoryFound", f"GitHub repository {repository} exists"
    )
    if answer.archived:
        archived = cond(
            REPOSITORY_ARCHIVED,
            True,
            "RepositoryArchived",
            f"GitHub repository {repository} is archived (read-only): unarchive it on "
            "GitHub, or mark the Component deprecated",
        )
    else:
        archived = cond(
            REPOSITORY_ARCHIVED,
            False,
            "NotArchived",
            f"GitHub repository {repository} is not archived",
        )
    return [found, archived]


def kept_conditions(
    conditions: Iterable[Mapping[str, Any]], repository: str
) -> list[dict[str, Any]]:
    """The repository conditions written before about `repository` (their times dropped:
    `merge_conditions` keeps them while the status does not flip), for as long as the poller
    has no answer of its own (after a restart)."""
    types = (REPOSITORY_MISSING, REPOSITORY_ARCHIVED)
    return [
        cond(c["type"], {"True": True, "False": False}.get(c["status"]), c["reason"], c["message"])
        for c in conditions
        if c.get("type") in types
        and isinstance(c.get("message"), str)
        and f" {repository} " in c["message"]
        and c.get("reason")
    ]
