"""The `ci` step: a Component's CI runs and its repository's state, as the GitHub poller
(reconcilers/github_poll.py) last read them, in `status.ci`, the `ci` health signal and the
RepositoryMissing / RepositoryArchived conditions (domain/ci.py decides). It never calls
GitHub itself: a reconcile reads the poller's memory.

What a Component shows, by case:

- no GitHub repository, `github.poll.enabled: false`, or no token: nothing (what was
  written before is cleared);
- the poller has no answer yet (a restart, a Component just created): what the status said
  before about the same repository (status.ci, its signal and the conditions), until GitHub
  answers; a restart does not blank every Component's CI for a round;
- an answer: the conditions from the repository's read, status.ci from the runs (computed
  with `github.ci` as it is now, so a change of `workflows` shows without a new read), and
  the signal when `github.ci.affectsHealth` (else status.ci only); a deleted repository has
  no status.ci (RepositoryMissing says why).

It runs after the steps that write `status.repository` (scaffolding): a scaffolded
Component's repository comes from there.
"""

from collections.abc import Mapping
from typing import Any, Protocol

from portico.domain.ci import (
    RepoAnswer,
    ci_signal,
    ci_status,
    kept_conditions,
    repository_conditions,
    repository_of,
)
from portico.domain.entity import EntityView
from portico.reconcilers.outcome import StepOutcome
from portico.reconcilers.steps import StepContext


class Answers(Protocol):
    """What the step reads: the poller (GitHubPoller) or a stand-in."""

    @property
    def polling(self) -> bool:
        """False when nothing is polled (no token, or disabled)."""
        ...

    def answer(self, view: EntityView) -> RepoAnswer | None: ...


class CIStep:
    name = "ci"
    condition = "CIRead"  # only reported if the step failed

    def __init__(self, answers: Answers) -> None:
        self._answers = answers

    async def __call__(self, ctx: StepContext) -> StepOutcome | None:
        view = ctx.view
        if view.key.kind != "component":
            return None
        found = repository_of(view)
        github = ctx.config.github
        if found is None or not github.poll.enabled or not self._answers.polling:
            return StepOutcome(fields={"ci": None})
        repository = f"{found[0]}/{found[1]}"
        answer = self._answers.answer(view)
        previous: Mapping[str, Any] = view.status.get("ci") or {}
        if previous.get("repository") != repository:
            previous = {}
        if answer is not None and answer.found is not None:
            conditions = repository_conditions(repository, answer)
        else:
            conditions = kept_conditions(view.status.get("conditions") or [], repository)
        ci: Mapping[str, Any] | None
        if not github.ci.enabled or (answer is not None and answer.found is False):
            ci = None
        elif answer is None or answer.runs is None:
            ci = previous or None  # nothing read yet: what was there stays
        else:
            ci = ci_status(repository, answer.branch, answer.runs, github.ci)
        signal = ci_signal(ci) if github.ci.affects_health else None
        return StepOutcome(
            conditions=conditions,
            fields={"ci": dict(ci) if ci else None},
            signals=(signal,) if signal is not None else (),
        )
