"""The cost of scorecards: every check of N entities, as the engine's reconciles pay for it.

A reconcile scores its entity after deciding its status (reconcilers/scorecard.py), on the
event loop: one conversion of the entity to CEL values, then each check. This prints, for each
N, the time for a full pass (N entities x the default 10 checks; a configuration change
re-decides every entity, which is this pass), per entity and per check, and the same with
cel-python's cost quoted from the issue's measurement for comparison. It also prints the floor:
building the `self` documents alone (what any evaluator must read).

Run: `.venv/bin/python bench/scorecards.py --sizes 1000,10000`.
"""

import argparse
import time
from typing import Any

from portico.domain.entity import EntityView, view_from_body
from portico.domain.scorecard import answers, checks_of, document, scorecard
from portico.models.scorecards import ScorecardConfig


def entity(i: int) -> tuple[EntityView, dict[str, Any]]:
    """A Component as the operator holds it, with a status like the ones it writes."""
    body = {
        "kind": "Component",
        "metadata": {
            "name": f"svc-{i}",
            "namespace": f"team-{i % 50}",
            "uid": f"c{i}",
            "labels": {"acme.com/tier": "1"},
            "annotations": {"backstage.io/techdocs-ref": "dir:."} if i % 2 else {},
        },
        "spec": {
            "type": "service",
            "lifecycle": "production" if i % 3 else "experimental",
            "owner": "group:team-a",
            "system": f"system-{i % 200}",
            "description": "a service" if i % 4 else "",
            "providesApis": [f"api-{i}"],
            "observe": {"kubernetes": {"selector": {"matchLabels": {"app": f"svc-{i}"}}}},
        },
    }
    status = {
        "observedGeneration": 1,
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "Reconciled", "message": ""},
            {"type": "RefsResolved", "status": "True", "reason": "AllFound", "message": ""},
            {"type": "Observed", "status": "True", "reason": "SourcesRead", "message": ""},
        ],
        "relations": [{"type": "ownedBy", "target": "group:default/team-a"}],
        "health": {
            "status": "Healthy",
            "signals": [{"source": "kubernetes", "status": "Healthy", "message": "1/1 ready"}],
        },
        "links": [{"type": "docs", "title": "Docs", "url": "https://x"}] if i % 2 else [],
        **({"ci": {"status": "completed", "conclusion": "success"}} if i % 5 else {}),
    }
    return view_from_body("Component", body), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    config = ScorecardConfig()
    checks = checks_of(config)
    print(f"default checks: {len(checks)}")
    for n in (int(s) for s in args.sizes.split(",")):
        entities = [entity(i) for i in range(n)]
        start = time.perf_counter()
        for view, status in entities:
            document(view, status)
        floor = time.perf_counter() - start
        start = time.perf_counter()
        levels: dict[str, int] = {}
        for view, status in entities:
            card = scorecard(config, view, status)
            level = card["level"] if card else "-"
            levels[level] = levels.get(level, 0) + 1
        total = time.perf_counter() - start
        evaluated = sum(len(answers(checks, view, status)) for view, status in entities)
        print(
            f"n={n}: full pass {total:.2f} s ({total / n * 1e6:.0f} us an entity, "
            f"{total / evaluated * 1e6:.1f} us a check, {evaluated} checks); "
            f"floor (documents only) {floor:.2f} s; levels {dict(sorted(levels.items()))}"
        )


if __name__ == "__main__":
    main()
