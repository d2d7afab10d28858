"""Waiting on Argo CD's application-controller, decided: what a Component says while Argo CD
prunes a deleted Application, and when no controller seems to act at all.

Portico cannot see Argo CD's controller, only what it does to Applications. Two things go
unexplained when none runs (Argo CD's CRDs installed without it, or it is stopped):

- a new Application is never reconciled: nothing writes its status. After
  `argocd.unresponsiveSeconds` the Component's argocd health signal is Unknown,
  `ArgoCDNotResponding`, and asks whether the controller runs and watches that namespace.
- a deleted Application keeps Argo CD's resources finalizer, so it never goes, and the
  Component waits for it (`Deployed` False, `WaitingForArgoCD`). After the threshold the
  reason is `ArgoCDNotResponding` and the message gives the way out. It does not claim
  Argo CD is down, since pruning many resources takes time too.

Elapsed times are shown coarsely (seconds, then 1, 2, 5, 10, 15 and 30 minutes, then hours
and days) and always rounded down, so a message is never wrong when it is not rewritten,
and a long wait costs a status write per step, not one a minute. Times come from the
caller's clock (the engine's `now`), so these functions are deterministic.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from portico.domain.argocd import RESOURCES_FINALIZER, AppView
from portico.domain.health import Signal

WAITING = "WaitingForArgoCD"
NOT_RESPONDING = "ArgoCDNotResponding"
MARGIN = 1.0  # seconds past a threshold before looking again (timestamps have 1 s resolution)

# Steps at which an elapsed time is shown differently: 1, 2, 5, 10, 15, 30 minutes, 1, 2, 3,
# 6 and 12 hours, then every day.
_MARKS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
_DAY = 86400


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 timestamp as Kubernetes writes it (`2026-01-01T00:00:00Z`), or None."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def seconds_since(then: str | None, now: str) -> float | None:
    start, end = parse_time(then), parse_time(now)
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _mark(seconds: float) -> int:
    """The largest step not after `seconds` (0 below a minute)."""
    if seconds >= _DAY:
        return int(seconds // _DAY) * _DAY
    passed = [m for m in _MARKS if m <= seconds]
    return passed[-1] if passed else 0


def elapsed(seconds: float) -> str:
    """`42s`, `2m`, `30m`, `3h`, `2d`: rounded down to the step it has reached."""
    mark = _mark(seconds)
    if mark == 0:
        return f"{int(seconds)}s"
    if mark < 3600:
        return f"{mark // 60}m"
    if mark < _DAY:
        return f"{mark // 3600}h"
    return f"{mark // _DAY}d"


def until_next_step(seconds: float) -> float:
    """Seconds until `elapsed` shows something else (below a minute: the first minute)."""
    if seconds >= _MARKS[-1]:
        return (int(seconds // _DAY) + 1) * _DAY - seconds + MARGIN
    following = next(m for m in _MARKS if m > seconds)
    return following - seconds + MARGIN


def finalizer_command(app: AppView) -> str:
    """The way out when nobody will ever finish the deletion: drop the finalizers, so the
    Application goes and the resources it deployed stay."""
    return (
        f"kubectl -n {app.namespace} patch application {app.name} --type=json "
        """-p '[{"op":"remove","path":"/metadata/finalizers"}]'"""
    )


def unreconciled(
    app: AppView | None, now: str, threshold: float
) -> tuple[Signal | None, float | None]:
    """(the argocd signal, when to look again) for an Application no controller has acted on.

    No signal while it has been reconciled, or exists for less than `threshold` seconds:
    then the time to look again is when the threshold passes (None: nothing to wait for).
    """
    if app is None or app.reconciled:
        return None, None
    age = seconds_since(app.created_at, now)
    if age is None:
        return None, None
    if age < threshold:
        return None, threshold - age + MARGIN
    signal = Signal(
        "argocd",
        "Unknown",
        f"no Argo CD application-controller has reconciled Application {app.ref} in "
        f"{elapsed(age)} since it was created: is Argo CD's application-controller running "
        f"and watching namespace {app.namespace}?",
        NOT_RESPONDING,
    )
    return signal, until_next_step(age)


@dataclass(frozen=True)
class DeletionWait:
    """What a Component being deleted says while its Application is still there."""

    reason: str  # WaitingForArgoCD, or ArgoCDNotResponding after the threshold
    message: str
    look_again: float | None  # seconds, when the message would change with time alone

    @property
    def warning(self) -> bool:
        return self.reason == NOT_RESPONDING


def deletion_wait(app: AppView, policy: str, now: str, threshold: float) -> DeletionWait:
    """The Component waits for its Application to go; how long Argo CD has taken decides
    whether to say more than that."""
    if policy == "Delete":
        waiting = (
            f"deleting: waiting for Argo CD to prune the resources of Application {app.ref} "
            f"and remove it (deletionPolicy Delete)"
        )
    else:
        waiting = (
            f"deleting: waiting for Application {app.ref} to be removed; the resources it "
            f"deployed stay (deletionPolicy {policy})"
        )
    since = seconds_since(app.deleted_at, now)
    if since is None:  # deletion not requested yet: its watch event wakes the Component
        return DeletionWait(WAITING, waiting, None)
    if since < threshold:
        return DeletionWait(WAITING, waiting, threshold - since + MARGIN)
    whose = "Argo CD's finalizer" if RESOURCES_FINALIZER in app.finalizers else "its finalizers"
    message = (
        f"deleting: Argo CD has not removed Application {app.ref} in {elapsed(since)} since "
        f"deletion was requested (deletionPolicy {policy}, finalizers: "
        f"{', '.join(app.finalizers) or 'none'}); if no application-controller is running, "
        "start Argo CD's application-controller, or let the deployed resources stay by "
        f"removing {whose}: {finalizer_command(app)}"
    )
    return DeletionWait(NOT_RESPONDING, message, until_next_step(since))
