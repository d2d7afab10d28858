"""metav1.Condition bookkeeping: transitions keep their time, unchanged ones keep theirs."""

from collections.abc import Iterable, Mapping
from typing import Any

# Condition types, one constant each (kubebuilder's habit).
READY = "Ready"
REFS_RESOLVED = "RefsResolved"
VALID = "Valid"
SCAFFOLDED = "Scaffolded"
DEPLOYED = "Deployed"
OBSERVED = "Observed"
DASHBOARD_READY = "DashboardReady"
UP_TO_DATE = "UpToDate"
LINKS_RESOLVED = "LinksResolved"
# Abnormal-true, like a Node's DiskPressure: True when the Component's GitHub repository was
# deleted (or is out of the token's reach) or archived; False once it was read and is fine.
REPOSITORY_MISSING = "RepositoryMissing"
REPOSITORY_ARCHIVED = "RepositoryArchived"
# Whether Portico reads the Component's GitHub repository for CI: False when the tenancy
# policy does not let its namespace name that repository (RepositoryNotAllowed).
CI_READ = "CIRead"

# Conditions that report on add-ons rather than on the entity being reconciled: they never
# make it not Ready (a Grafana outage must not flip every Component's Ready, nor fail every
# `kubectl wait --for=condition=Ready` in a pipeline).
# An update waiting to be merged is the repository owner's to act on, not a fault either;
# nor is a stale repository (the scorecard fails it; what runs keeps running), nor a link
# Portico could not derive (a bad grafana/dashboard-selector: the links are an add-on), nor
# a CI Portico may not read (what runs keeps running; the scorecard's CI checks say it).
NOT_GATING = frozenset(
    {
        DASHBOARD_READY,
        OBSERVED,
        UP_TO_DATE,
        REPOSITORY_MISSING,
        REPOSITORY_ARCHIVED,
        LINKS_RESOLVED,
        CI_READ,
    }
)


def cond(type_: str, status: bool | None, reason: str, message: str = "") -> dict[str, Any]:
    """A condition without its times; `merge_conditions` adds those."""
    text = {True: "True", False: "False", None: "Unknown"}[status]
    return {"type": type_, "status": text, "reason": reason, "message": message}


def merge_conditions(
    previous: Iterable[Mapping[str, Any]],
    wanted: Iterable[Mapping[str, Any]],
    *,
    generation: int,
    now: str,
) -> list[dict[str, Any]]:
    """Wanted conditions, stamped: lastTransitionTime moves only when the status flips."""
    before = {c.get("type"): c for c in previous}
    merged = []
    for c in wanted:
        old = before.get(c["type"])
        if old is not None and old.get("status") == c["status"] and old.get("lastTransitionTime"):
            since = old["lastTransitionTime"]
        else:
            since = now
        merged.append({**c, "lastTransitionTime": since, "observedGeneration": generation})
    return merged


def summary_ready(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    """Ready: True when every other condition is True; otherwise the first that is not."""
    for c in conditions:
        if c["type"] in NOT_GATING:
            continue
        if c["status"] != "True":
            return cond(
                READY, False if c["status"] == "False" else None, c["reason"], c.get("message", "")
            )
    return cond(READY, True, "Reconciled", "all conditions are met")
