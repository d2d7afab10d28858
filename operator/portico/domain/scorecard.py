"""Scorecards: each check's CEL expression over the entity, and the level they add up to.

The entity a check sees (`self`) is the object as `kubectl get -o yaml` will show it after
this reconcile: apiVersion, kind, metadata (name, namespace, labels, annotations), spec, and
the status about to be written (health, links, conditions, ci...), without the scorecard
itself and the operator framework's bookkeeping.

A check applies to an entity when its kind, spec.type, spec.lifecycle and namespace are in
the check's scope (an empty list is no restriction). The level is the highest level whose
applicable checks pass, together with every lower level's; a level with no applicable check
is passed. An entity no check applies to has no scorecard.

An entity larger than MAX_DOCUMENT (as JSON) fails every check, saying so: the conversion to
CEL values runs on the event loop. An expression that fails on an entity (a field it reads is
absent: CEL's `has()` guards that) is a failed check whose message says why; one that gives
something else than a boolean fails too. Nothing here has a clock: the same entity always
gets the same card, so an unchanged entity is never written again.
"""

import fnmatch
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cel

from portico.domain.entity import EntityView
from portico.domain.scorecard_defaults import DEFAULT_CHECKS
from portico.models.kinds import API_VERSION, kind_info
from portico.models.scorecards import NO_LEVEL, ScorecardCheck, ScorecardConfig, compile_expression

HIDDEN = ("scorecard", "kopf")  # status fields a check does not see
# Handing an entity to CEL costs about 0.15 s a MiB, on the event loop; annotations, labels
# and label selectors are unbounded in the CRD, so a tenant could make every reconcile of
# its Component that slow. Above this, every check fails saying so (a real entity is a few
# KiB).
MAX_DOCUMENT = 128 * 1024


def checks_of(config: ScorecardConfig) -> tuple[ScorecardCheck, ...]:
    if not config.enabled:
        return ()
    return DEFAULT_CHECKS if config.checks is None else config.checks


def applies(check: ScorecardCheck, view: EntityView) -> bool:
    if view.key.kind not in check.kinds:
        return False
    spec = view.spec
    if check.types and getattr(spec, "type", None) not in check.types:
        return False
    if check.lifecycles and getattr(spec, "lifecycle", None) not in check.lifecycles:
        return False
    return not check.namespaces or any(
        fnmatch.fnmatchcase(view.key.namespace, pattern) for pattern in check.namespaces
    )


def document(view: EntityView, status: Mapping[str, Any]) -> dict[str, Any]:
    """`self`: the entity with the status about to be written."""
    return {
        "apiVersion": API_VERSION,
        "kind": kind_info(view.key.kind).kind,
        "metadata": {
            "name": view.key.name,
            "namespace": view.key.namespace,
            "labels": dict(view.labels),
            "annotations": dict(view.annotations),
        },
        "spec": view.spec.wire() if view.spec is not None else {},
        "status": {k: v for k, v in status.items() if k not in HIDDEN and v is not None},
    }


@dataclass(frozen=True)
class Answer:
    check: ScorecardCheck
    passed: bool
    message: str


def _first_line(e: Exception) -> str:
    text = " ".join(str(e).split(". Check that")[0].split())
    return text if not isinstance(e, KeyError) else f"no such field {text}"


def run_check(check: ScorecardCheck, context: Any) -> Answer:
    try:
        result = compile_expression(check.expression).execute(context)
    except Exception as e:  # the library raises KeyError, TypeError, RuntimeError...
        return Answer(check, False, f"could not evaluate: {_first_line(e)}"[:512])
    if result is True:
        return Answer(check, True, check.description or "passes")
    if result is False:
        return Answer(check, False, check.message or f"{check.expression} is false")
    return Answer(check, False, f"gave {type(result).__name__}, not true or false")


def answers(
    checks: Sequence[ScorecardCheck], view: EntityView, status: Mapping[str, Any]
) -> list[Answer]:
    relevant = [c for c in checks if applies(c, view)]
    if not relevant:
        return []
    doc = document(view, status)
    size = len(json.dumps(doc, separators=(",", ":"), default=str))  # C speed: ~5 ms a MiB
    if size > MAX_DOCUMENT:
        why = f"the entity is too large to score ({size // 1024} KiB > {MAX_DOCUMENT // 1024} KiB)"
        return [Answer(check, False, why) for check in relevant]
    context = cel.Context()
    context.add_variable("self", doc)  # converted once, not per check
    return [run_check(check, context) for check in relevant]


def level_of(levels: Sequence[str], found: Sequence[Answer]) -> tuple[str, str | None]:
    """The level reached, and the first level not reached (None: the top one was)."""
    reached = NO_LEVEL
    for level in levels:
        if any(not a.passed for a in found if a.check.level == level):
            return reached, level
        reached = level
    return reached, None


def scorecard(
    config: ScorecardConfig, view: EntityView, status: Mapping[str, Any]
) -> dict[str, Any] | None:
    """status.scorecard, or None when no check applies to the entity."""
    found = answers(checks_of(config), view, status)
    if not found:
        return None
    order = {level: i for i, level in enumerate(config.levels)}
    found.sort(key=lambda a: order[a.check.level])  # stable: the configuration's order within
    level, missing = level_of(config.levels, found)
    passed = sum(1 for a in found if a.passed)
    if missing is None:
        message = f"all {len(found)} checks pass"
    else:
        failing = [a for a in found if a.check.level == missing and not a.passed]
        message = f"{missing} needs: " + "; ".join(f"{a.check.name} ({a.message})" for a in failing)
    return {
        "level": level,
        "passed": passed,
        "total": len(found),
        "message": message[:1024],
        "checks": [
            {
                "name": a.check.name,
                "level": a.check.level,
                "result": "Pass" if a.passed else "Fail",
                "message": a.message,
            }
            for a in found
        ],
    }


def level_change(
    levels: Sequence[str], before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[str, str, bool] | None:
    """(old level, new level, down?) when a scorecard's level moved; None on the first card,
    when the card went away, or when the level stayed."""
    if not before or not after or before.get("level") == after.get("level"):
        return None
    old, new = str(before.get("level")), str(after.get("level"))
    rank = {level: i for i, level in enumerate((NO_LEVEL, *levels))}
    return old, new, rank.get(new, -1) < rank.get(old, -1)
