"""Health: one signal per source, the worst wins.

Order, best to worst: Healthy < Progressing < Missing < Degraded < Unknown — Argo CD's own
order, so a health that comes from Argo CD means the same thing here. Unknown is the worst
because a source we cannot read may be hiding anything, including an outage; it says
"look at this" louder than a known degradation. Missing (the thing should exist and does
not) ranks above Progressing because nothing is on its way to fix it.

Entities with no configured source have no health at all, and roll-ups skip them: an
unobserved Component should not make its System look Unknown.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ORDER = ("Healthy", "Progressing", "Missing", "Degraded", "Unknown")
RANK = {status: i for i, status in enumerate(ORDER)}

SOURCE_NAMES = {
    "kubernetes": "Kubernetes",
    "argocd": "ArgoCD",
    "prometheus": "Prometheus",
    "ci": "CI",
}


@dataclass(frozen=True)
class Signal:
    source: str
    status: str
    message: str
    reason: str | None = None


def worst(statuses: Iterable[str]) -> str | None:
    ranked = [s for s in statuses if s in RANK]
    return max(ranked, key=RANK.__getitem__) if ranked else None


def _camel(source: str) -> str:
    return SOURCE_NAMES.get(source, source[:1].upper() + source[1:])


def aggregate(
    signals: Sequence[Signal],
    previous: Mapping[str, Any] | None,
    *,
    now: str,
) -> dict[str, Any] | None:
    """The health block for status: worst signal, its reason and message, every signal.

    `observedAt` of a signal moves only when that signal's status or message changes, so an
    unchanged world produces an identical block (and no status write).
    """
    if not signals:
        return None
    before = {s.get("source"): s for s in (previous or {}).get("signals") or []}
    rendered = []
    for s in sorted(signals, key=lambda s: s.source):
        old = before.get(s.source)
        same = old is not None and old.get("status") == s.status and old.get("message") == s.message
        out: dict[str, Any] = {"source": s.source, "status": s.status, "message": s.message}
        if s.reason:
            out["reason"] = s.reason
        out["observedAt"] = old.get("observedAt", now) if same and old is not None else now
        rendered.append(out)
    status = worst(s.status for s in signals) or "Unknown"
    culprits = [s for s in signals if s.status == status]
    if status == "Healthy":
        message = "; ".join(
            f"{s.source}: {s.message}" for s in sorted(signals, key=lambda s: s.source)
        )
        reason = "AllSignalsHealthy"
    else:
        first = sorted(culprits, key=lambda s: s.source)[0]
        reason = (
            first.reason
            if first.source == "members" and first.reason
            else (f"{_camel(first.source)}{status}")
        )
        message = "; ".join(
            f"{s.source}: {s.message}" for s in sorted(culprits, key=lambda s: s.source)
        )
    return {"status": status, "reason": reason, "message": message, "signals": rendered}


KIND_ORDER = {"component": 0, "api": 1}


def rollup(
    members: Sequence[tuple[str, str | None, str]], *, what: str, detail: bool = True
) -> Signal | None:
    """One signal from members' (ref, health, message): the worst, naming the worst members.

    Members without health are not observed and are left out. Components are named before
    APIs (an API's health is derived from its providers, so the Component is the cause);
    with `detail`, each named member brings its own message.
    """
    observed = [(ref, h, m) for ref, h, m in members if h]
    if not observed:
        return None
    status = worst(h for _, h, _ in observed) or "Unknown"
    if status == "Healthy":
        return Signal("members", "Healthy", f"all {len(observed)} observed {what} are Healthy")
    bad = sorted(
        ((ref, m) for ref, h, m in observed if h == status),
        key=lambda rm: (KIND_ORDER.get(rm[0].partition(":")[0], 9), rm[0]),
    )
    shown = "; ".join(
        f"{ref} is {status}" + (f" ({m})" if m and detail else "") for ref, m in bad[:3]
    )
    more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
    unhealthy = sum(1 for _, h, _ in observed if h != "Healthy")
    return Signal(
        "members",
        status,
        f"{unhealthy} of {len(observed)} {what} not Healthy: {shown}{more}",
        reason=f"Member{status}",
    )


def counts(statuses: Iterable[str | None]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in statuses:
        key = s or "NotObserved"
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))
