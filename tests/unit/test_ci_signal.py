"""The CI signal and the repository conditions, decided (domain/ci.py), and the `ci` step
that writes them (reconcilers/ci_step.py).

The matrix: every run status and conclusion GitHub documents onto a health status; which runs
count (pull-request runs, cancelled/skipped/stale ones, the `workflows` setting by file name,
path and name); several workflows (the worst decides, a later green one does not hide a red
one); no run at all (no status.ci, no signal); status.ci carries no time of Portico's own, so
the same answer twice is no status write; the repository's conditions (found, archived,
deleted; none before a read); lastConclusion (the newest completed runs: a run under way,
cancelled or waiting for approval leaves it; any failing workflow makes it a failure; the
runs kept in memory hold what it needs); `.` and `..` are no repository name; and the step's
cases: no repository, polls off or no token (cleared), no answer yet after a restart (what
the status said is kept, for the same repository only), `enabled: false`, `affectsHealth:
false`, lastConclusion through red, a push and green. Tenancy: test_ci_tenancy.py.
"""

from typing import Any

import pytest
from test_status import COMP, FakeGraph, body

from portico.domain.ci import (
    RepoAnswer,
    Run,
    ci_signal,
    ci_status,
    kept_conditions,
    latest_runs,
    repository_conditions,
    repository_of,
    verdict,
)
from portico.domain.conditions import merge_conditions
from portico.domain.entity import EntityView, view_from_body
from portico.domain.status import OWNED, desired_status, status_patch
from portico.models.config import CIConfig, GithubConfig, GithubPollConfig, OperatorConfig
from portico.models.tenancy import TenancyConfig
from portico.reconcilers.ci_step import CIStep
from portico.reconcilers.steps import StepContext

SHA = "0123456789abcdef0123456789abcdef01234567"
NOW = "2025-01-01T00:00:00Z"


def raw(
    run_id: int,
    *,
    status: str = "completed",
    conclusion: str | None = "success",
    path: str = ".github/workflows/ci.yml",
    name: str = "CI",
    event: str = "push",
    branch: str = "main",
) -> dict[str, Any]:
    """A run as GET /repos/{o}/{r}/actions/runs lists it (the fields Portico reads, and some
    it does not)."""
    return {
        "id": run_id,
        "name": name,
        "path": path,
        "run_number": run_id % 1000,
        "event": event,
        "status": status,
        "conclusion": conclusion if status == "completed" else None,
        "html_url": f"https://github.com/acme/svc/actions/runs/{run_id}",
        "head_sha": SHA,
        "head_branch": branch,
        "updated_at": "2024-12-31T23:59:00Z",
        "actor": {"login": "someone"},
        "repository": {"full_name": "acme/svc"},
    }


def runs(*items: dict[str, Any]) -> tuple[Run, ...]:
    return latest_runs({"total_count": len(items), "workflow_runs": list(items)})


def decide(*items: dict[str, Any], workflows: tuple[str, ...] = ()) -> dict[str, Any] | None:
    return ci_status("acme/svc", "main", runs(*items), CIConfig(workflows=workflows))


@pytest.mark.parametrize(
    ("status", "conclusion", "health"),
    [
        ("completed", "success", "Healthy"),
        ("completed", "neutral", "Healthy"),
        ("completed", "failure", "Degraded"),
        ("completed", "timed_out", "Degraded"),
        ("completed", "startup_failure", "Degraded"),
        ("completed", "action_required", "Progressing"),
        ("queued", None, "Progressing"),
        ("in_progress", None, "Progressing"),
        ("waiting", None, "Progressing"),
        ("pending", None, "Progressing"),
        ("requested", None, "Progressing"),
        ("completed", "something_new", "Unknown"),
    ],
)
def test_each_state_of_the_latest_run_is_a_health_status(
    status: str, conclusion: str | None, health: str
) -> None:
    assert verdict(status, conclusion)[0] == health
    ci = decide(raw(1, conclusion="failure"), raw(2, status=status, conclusion=conclusion))
    assert ci is not None
    assert ci["runId"] == 2
    signal = ci_signal(ci)
    assert signal is not None
    assert (signal.source, signal.status) == ("ci", health)


def test_status_ci_names_the_deciding_run_and_a_failure_links_to_it() -> None:
    ci = decide(raw(7, conclusion="success"), raw(8, conclusion="failure"))
    assert ci == {
        "repository": "acme/svc",
        "branch": "main",
        "workflow": "CI",
        "path": ".github/workflows/ci.yml",
        "runId": 8,
        "runNumber": 8,
        "event": "push",
        "status": "completed",
        "conclusion": "failure",
        "url": "https://github.com/acme/svc/actions/runs/8",
        "commit": SHA,
        "updatedAt": "2024-12-31T23:59:00Z",
        "lastConclusion": "failure",
        "message": "CI failed on main at 0123456 (run #8): "
        "https://github.com/acme/svc/actions/runs/8",
    }
    running = decide(raw(9, status="in_progress"))
    assert running is not None
    assert "conclusion" not in running  # absent, not null: GitHub has none yet
    assert running["message"].startswith("CI is running on main at 0123456 (run #9)")


@pytest.mark.parametrize("skipped", ["cancelled", "skipped", "stale"])
def test_cancelled_skipped_and_stale_runs_decide_nothing_the_run_before_does(
    skipped: str,
) -> None:
    ci = decide(raw(1, conclusion="failure"), raw(2, conclusion=skipped))
    assert ci is not None
    assert (ci["runId"], ci["conclusion"]) == (1, "failure")
    assert decide(raw(3, conclusion=skipped)) is None  # nothing decides: no CI to speak of


@pytest.mark.parametrize("event", ["pull_request", "pull_request_target"])
def test_pull_request_runs_do_not_count(event: str) -> None:
    """A fork's branch may be called main: its runs are listed under branch=main."""
    ci = decide(raw(1, conclusion="success"), raw(2, conclusion="failure", event=event))
    assert ci is not None
    assert ci["runId"] == 1
    assert decide(raw(2, conclusion="failure", event=event)) is None


def test_scheduled_and_manual_runs_count() -> None:
    for event in ("schedule", "workflow_dispatch"):
        ci = decide(raw(1, conclusion="failure", event=event))
        assert ci is not None
        assert ci["event"] == event


def test_no_runs_at_all_is_no_status_and_no_signal() -> None:
    assert decide() is None
    assert ci_signal(None) is None
    assert ci_signal({}) is None


def test_the_worst_workflow_decides_and_a_later_green_one_does_not_hide_it() -> None:
    ci = decide(
        raw(10, conclusion="failure"),
        raw(11, conclusion="success", path=".github/workflows/docs.yml", name="Docs"),
        raw(12, status="in_progress", path=".github/workflows/lint.yml", name="Lint"),
    )
    assert ci is not None
    assert (ci["runId"], ci["workflow"]) == (10, "CI")
    assert ci["message"].endswith("; 1 of 3 workflows failing")
    signal = ci_signal(ci)
    assert signal is not None
    assert signal.status == "Degraded"

    both = decide(
        raw(10, conclusion="failure"),
        raw(11, conclusion="timed_out", path=".github/workflows/e2e.yml", name="E2E"),
    )
    assert both is not None
    assert both["runId"] == 11
    assert both["message"].endswith("; 2 of 2 workflows failing: CI, E2E")


def test_an_older_failure_of_a_workflow_is_healed_by_its_newer_run() -> None:
    ci = decide(
        raw(1, conclusion="failure"),
        raw(2, conclusion="success", path=".github/workflows/docs.yml", name="Docs"),
        raw(3, conclusion="success"),
    )
    assert ci is not None
    assert ci["runId"] == 3
    assert ci["message"] == (
        "CI passed on main at 0123456 (run #3); 2 of 2 workflows passing: CI, Docs"
    )


@pytest.mark.parametrize("named", ["ci.yml", ".github/workflows/ci.yml", "CI", "other.yml, CI"])
def test_workflows_are_named_by_file_name_path_or_name(named: str) -> None:
    workflows = tuple(w.strip() for w in named.split(","))
    red_docs = raw(5, conclusion="failure", path=".github/workflows/docs.yml", name="Docs")
    ci = decide(raw(4, conclusion="success"), red_docs, workflows=workflows)
    assert ci is not None
    assert (ci["runId"], ci["conclusion"]) == (4, "success")
    assert decide(red_docs, workflows=workflows) is None


def test_the_same_answer_is_the_same_status_and_no_write() -> None:
    """status.ci holds GitHub's times only: deciding twice (later) gives an identical status,
    so desired_status makes no patch."""
    items = (raw(1, conclusion="failure"),)
    first = decide(*items)
    assert first == decide(*items)
    signal = ci_signal(first)
    assert signal is not None
    view = view_from_body("Component", body("Component", "svc", COMP))
    stored = desired_status(view, FakeGraph(view), now=NOW, fields={"ci": first}, signals=[signal])
    again = view_from_body("Component", body("Component", "svc", COMP, **stored))
    later = desired_status(
        again,
        FakeGraph(again),
        now="2025-01-01T01:00:00Z",
        fields={"ci": decide(*items)},
        signals=[signal],
    )
    assert status_patch(stored, later, OWNED["component"]) is None
    assert stored["health"]["status"] == "Degraded"
    assert stored["health"]["reason"] == "CIDegraded"


def test_repository_conditions() -> None:
    assert repository_conditions("acme/svc", RepoAnswer()) == []  # not read yet
    fine = {
        c["type"]: (c["status"], c["reason"])
        for c in repository_conditions("acme/svc", RepoAnswer(found=True, archived=False))
    }
    assert fine == {
        "RepositoryMissing": ("False", "RepositoryFound"),
        "RepositoryArchived": ("False", "NotArchived"),
    }
    archived = repository_conditions("acme/svc", RepoAnswer(found=True, archived=True))
    assert [(c["type"], c["status"], c["reason"]) for c in archived][1] == (
        "RepositoryArchived",
        "True",
        "RepositoryArchived",
    )
    assert "acme/svc is archived" in archived[1]["message"]
    (missing,) = repository_conditions("acme/svc", RepoAnswer(found=False))
    assert (missing["type"], missing["status"], missing["reason"]) == (
        "RepositoryMissing",
        "True",
        "RepositoryMissing",
    )
    assert "acme/svc was not found" in missing["message"]


def test_kept_conditions_are_those_about_the_same_repository() -> None:
    written = merge_conditions(
        [],
        repository_conditions("acme/svc", RepoAnswer(found=True, archived=True)),
        generation=1,
        now=NOW,
    )
    kept = kept_conditions(written, "acme/svc")
    assert [(c["type"], c["status"]) for c in kept] == [
        ("RepositoryMissing", "False"),
        ("RepositoryArchived", "True"),
    ]
    assert all("lastTransitionTime" not in c for c in kept)
    assert kept_conditions(written, "acme/other") == []


# -- lastConclusion: the newest completed runs, stable while a run is under way ------------


DOCS = {"path": ".github/workflows/docs.yml", "name": "Docs"}


def last(*items: dict[str, Any], workflows: tuple[str, ...] = ()) -> str | None:
    ci = decide(*items, workflows=workflows)
    return None if ci is None else ci.get("lastConclusion")


def test_last_conclusion_stays_red_while_a_new_run_is_under_way_then_follows_it() -> None:
    red = [raw(1, conclusion="success"), raw(2, conclusion="failure")]
    assert last(*red) == "failure"
    for state in ("queued", "in_progress", "waiting"):
        running = decide(*red, raw(3, status=state))
        assert running is not None
        assert (running["runId"], running["status"]) == (3, state)  # health: Progressing
        assert running["lastConclusion"] == "failure"  # the scorecard: still red
        assert running["message"].endswith("; last completed: failure")
    # A run cancelled by the next push, or waiting for an approval, says nothing either.
    assert last(*red, raw(3, conclusion="cancelled"), raw(4, status="in_progress")) == "failure"
    assert last(*red, raw(3, conclusion="action_required")) == "failure"
    assert last(*red, raw(3, conclusion="success")) == "success"
    assert last(*red, raw(3, conclusion="success"), raw(4, status="queued")) == "success"


def test_the_runs_kept_in_memory_hold_what_last_conclusion_needs() -> None:
    """The poller keeps `latest_runs` only: a workflow under way keeps its newest completed
    run beside it, and nothing older."""
    kept = runs(
        raw(1, conclusion="failure"),
        raw(2, conclusion="success"),
        raw(3, conclusion="cancelled"),
        raw(4, status="in_progress"),
        raw(5, status="queued"),
        raw(6, conclusion="success", **DOCS),
    )
    assert [r.id for r in kept] == [6, 5, 2]
    assert [r.id for r in runs(raw(1, conclusion="failure"), raw(2))] == [2]


def test_with_several_workflows_any_failure_is_the_last_conclusion() -> None:
    # CI failed, Docs passed later: failure (a later green workflow does not hide it).
    assert last(raw(1, conclusion="failure"), raw(2, conclusion="success", **DOCS)) == "failure"
    # CI's new run is under way; its last completed run failed: still failure.
    assert (
        last(
            raw(1, conclusion="failure"),
            raw(2, conclusion="success", **DOCS),
            raw(3, status="in_progress"),
        )
        == "failure"
    )
    # Docs failed and is re-running, CI passed: failure.
    assert (
        last(
            raw(1, conclusion="failure", **DOCS),
            raw(2, conclusion="success"),
            raw(3, status="in_progress", **DOCS),
        )
        == "failure"
    )
    # All pass: the newest one's conclusion.
    assert last(raw(1, conclusion="success"), raw(2, conclusion="neutral", **DOCS)) == "neutral"
    assert last(raw(1, conclusion="neutral", **DOCS), raw(2, conclusion="success")) == "success"
    # A failure outranks a conclusion Portico cannot judge, which outranks a pass.
    unjudged = raw(3, conclusion="something_new", path=".github/workflows/e2e.yml", name="E2E")
    assert last(raw(1, conclusion="timed_out"), raw(2, conclusion="success", **DOCS), unjudged) == (
        "timed_out"
    )
    assert last(raw(1, conclusion="success"), unjudged) == "something_new"
    # Only the counted workflows decide.
    assert last(
        raw(1, conclusion="success"), raw(2, conclusion="failure", **DOCS), workflows=("CI",)
    ) == ("success")


def test_without_a_completed_run_there_is_no_last_conclusion() -> None:
    running = decide(raw(1, status="in_progress"))
    assert running is not None
    assert "lastConclusion" not in running
    assert running["message"] == (
        "CI is running on main at 0123456 (run #1): https://github.com/acme/svc/actions/runs/1"
    )
    assert last(raw(1, conclusion="action_required")) is None


@pytest.mark.parametrize("name", [".", ".."])
def test_dot_repository_names_are_no_repository(name: str) -> None:
    assert repository_of(component({"github.com/project-slug": f"acme/{name}"})) is None
    source = {**COMP, "source": {"github": {"owner": "acme", "repo": name}}}
    view = view_from_body("Component", body("Component", "svc", source))
    assert repository_of(view) is None
    scaffolded = component({}, repository={"url": f"https://github.com/acme/{name}"})
    assert repository_of(scaffolded) is None


# -- the step --------------------------------------------------------------------------


class Answers:
    def __init__(self, answer: RepoAnswer | None = None, polling: bool = True) -> None:
        self.given, self.polling = answer, polling

    def answer(self, view: EntityView) -> RepoAnswer | None:
        return self.given


SLUG = {"github.com/project-slug": "acme/svc"}


def component(annotations: dict[str, str] | None = None, **status: Any) -> EntityView:
    raw_body = body("Component", "svc", COMP, **status)
    raw_body["metadata"]["annotations"] = SLUG if annotations is None else annotations
    return view_from_body("Component", raw_body)


# `shop` may name acme's repositories (publish.githubOwners, the default of
# observe.githubOwners); test_ci_tenancy.py covers the refusals.
SHOP = TenancyConfig.model_validate(
    {"rules": [{"namespaces": ["shop"], "publish": {"githubOwners": ["acme"]}}]}
)


def config(**ci: Any) -> OperatorConfig:
    return OperatorConfig(github=GithubConfig(ci=CIConfig(**ci)), tenancy=SHOP)


async def step(
    view: EntityView, answers: Answers, cfg: OperatorConfig | None = None
) -> tuple[list[dict[str, Any]], Any, tuple[Any, ...]]:
    outcome = await CIStep(answers)(StepContext(view, None, cfg or config(), NOW))
    assert outcome is not None
    return outcome.conditions, outcome.fields["ci"], outcome.signals


RED = RepoAnswer(
    found=True,
    archived=False,
    default_branch="main",
    branch="main",
    runs=runs(raw(3, conclusion="failure")),
)


async def test_the_step_writes_the_answer() -> None:
    conditions, ci, signals = await step(component(), Answers(RED))
    assert [c["type"] for c in conditions] == ["RepositoryMissing", "RepositoryArchived"]
    assert ci is not None
    assert ci["conclusion"] == "failure"
    assert [(s.source, s.status) for s in signals] == [("ci", "Degraded")]
    assert repository_of(component()) == ("acme", "svc")


async def test_affects_health_false_reports_without_a_signal() -> None:
    _, ci, signals = await step(component(), Answers(RED), config(affectsHealth=False))
    assert ci is not None
    assert ci["conclusion"] == "failure"
    assert signals == ()


async def test_ci_disabled_keeps_the_repository_conditions_only() -> None:
    conditions, ci, signals = await step(component(), Answers(RED), config(enabled=False))
    assert (len(conditions), ci, signals) == (2, None, ())


async def test_without_a_repository_or_polls_everything_is_cleared() -> None:
    ci_before = ci_status("acme/svc", "main", RED.runs or (), CIConfig())
    written = component(ci=ci_before)
    assert await step(component(annotations={}), Answers(RED)) == ([], None, ())
    assert await step(written, Answers(RED, polling=False)) == ([], None, ())
    off = OperatorConfig(github=GithubConfig(poll=GithubPollConfig(enabled=False)), tenancy=SHOP)
    assert await step(written, Answers(RED), off) == ([], None, ())


async def test_a_deleted_repository_has_no_ci() -> None:
    conditions, ci, signals = await step(component(), Answers(RepoAnswer(found=False)))
    assert [(c["type"], c["status"]) for c in conditions] == [("RepositoryMissing", "True")]
    assert (ci, signals) == (None, ())


async def test_the_step_keeps_last_conclusion_while_a_push_runs() -> None:
    """The scorecard's ci-passing reads lastConclusion: red, a push (a run under way), then
    green. Health goes Degraded, Progressing, Healthy; lastConclusion failure, failure,
    success."""
    seen: list[tuple[str, str]] = []
    for items in (
        (raw(3, conclusion="failure"),),
        (raw(3, conclusion="failure"), raw(4, status="in_progress")),
        (raw(3, conclusion="failure"), raw(4, conclusion="success")),
    ):
        answer = RepoAnswer(found=True, archived=False, branch="main", runs=runs(*items))
        _, ci, signals = await step(component(), Answers(answer))
        seen.append((ci["lastConclusion"], signals[0].status))
    assert seen == [("failure", "Degraded"), ("failure", "Progressing"), ("success", "Healthy")]


async def test_before_the_first_answer_a_restart_keeps_what_the_status_said() -> None:
    ci_before = ci_status("acme/svc", "main", RED.runs or (), CIConfig())
    assert ci_before is not None
    before = merge_conditions(
        [],
        repository_conditions("acme/svc", RepoAnswer(found=True, archived=True)),
        generation=3,
        now=NOW,
    )
    written = component(ci=ci_before, conditions=before)
    conditions, ci, signals = await step(written, Answers(None))
    assert ci == ci_before
    assert [(c["type"], c["status"]) for c in conditions] == [
        ("RepositoryMissing", "False"),
        ("RepositoryArchived", "True"),
    ]
    assert [(s.source, s.status) for s in signals] == [("ci", "Degraded")]
    # The runs not read yet, the repository read: its conditions are new, status.ci kept.
    partial = RepoAnswer(found=True, archived=False, default_branch="main")
    conditions, ci, _ = await step(written, Answers(partial))
    assert ci == ci_before
    assert conditions[1]["status"] == "False"
    # Another repository now: nothing of the old one is kept.
    moved = component({"github.com/project-slug": "acme/other"}, ci=ci_before, conditions=before)
    assert await step(moved, Answers(None)) == ([], None, ())
