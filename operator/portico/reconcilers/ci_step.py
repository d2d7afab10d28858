"""The `ci` step: a Component's CI runs and its repository's state, as the GitHub poller
(reconcilers/github_poll.py) last read them, in `status.ci`, the `ci` health signal and the
RepositoryMissing / RepositoryArchived conditions (domain/ci.py decides). It never calls
GitHub itself: a reconcile reads the poller's memory.

What a Component shows, by case:

- no GitHub repository, `github.poll.enabled: false`, or no token for a while (the poller
  says when: reconcilers/github_poll.py): nothing (what was written before is cleared);
- a repository the tenancy policy does not let its namespace name (neither scaffolded for
  it nor of an owner in `observe.githubOwners`): `CIRead=False` (RepositoryNotAllowed),
  naming the namespace and the setting, and nothing about the repository; the poller never
  asks GitHub about it. CIRead does not gate Ready;
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
    readable_repository,
    repository_conditions,
)
from portico.domain.conditions import CI_READ, cond
from portico.domain.entity import EntityView
from portico.domain.tenancy import Refusal
from portico.reconcilers.outcome import StepOutcome
from portico.reconcilers.steps import StepContext


class Answers(Protocol):
    """What the step reads: the poller (GitHubPoller) or a stand-in."""

    @property
    def polling(self) -> bool:
        """False when nothing is polled (disabled, or no token for a while)."""
        ...

    def answer(self, view: EntityView) -> RepoAnswer | None: ...


class CIStep:
    name = "ci"
    condition = CI_READ  # False for a repository the policy refuses, or if the step failed

    def __init__(self, answers: Answers) -> None:
        self._answers = answers

    async def __call__(self, ctx: StepContext) -> StepOutcome | None:
        view = ctx.view
        if view.key.kind != "component":
            return None
        github = ctx.config.github
        if not github.poll.enabled or not self._answers.polling:
            return StepOutcome(fields={"ci": None})
        labels = ctx.graph.namespace_labels(view.key.namespace) if ctx.graph is not None else {}
        found = readable_repository(view, labels, ctx.config)
        if found is None:
            return StepOutcome(fields={"ci": None})
        if isinstance(found, Refusal):
            refused = cond(CI_READ, False, found.reason, found.message)
            return StepOutcome(conditions=[refused], fields={"ci": None})
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
