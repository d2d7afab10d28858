"""A Template's own status: is it valid, and do its tests pass? Rendered in the sandbox.

Templates are tenant input: the check (schema, syntax) and the tests run in a render process
with CPU, memory and output limits (portico.clients.sandbox), never on the event loop. The
result is kept per Template uid, generation and ConfigMap content, so a Template is rendered
once per change, not on every reconcile its relations cause. A render stopped at a limit
is tried again only after a back-off that doubles (5 min up to an hour) until the Template
changes.
"""

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portico.clients.sandbox import Renderers
from portico.domain.conditions import VALID, cond
from portico.domain.entity import EntityView
from portico.domain.upgrades import template_version
from portico.models.config import OperatorConfig
from portico.models.template import TemplateSpec
from portico.reconcilers.outcome import StepOutcome
from portico.reconcilers.skeletons import SkeletonSource
from portico.reconcilers.steps import StepContext
from portico.rendering.skeleton import RenderError

TESTS_PASSED = "TestsPassed"
LIMIT_BACKOFF = 300.0  # seconds before a Template stopped at a limit is rendered again
LIMIT_BACKOFF_MAX = 3600.0


@dataclass(frozen=True)
class _Checked:
    ident: str  # generation and ConfigMap content
    outcome: StepOutcome
    retry_at: float | None = None  # a resource limit: render again after this (monotonic)
    failures: int = 0


def _ident(view: EntityView, config_maps: Mapping[str, Mapping[str, str]]) -> str:
    digest = hashlib.sha256(json.dumps(config_maps, sort_keys=True).encode()).hexdigest()
    return f"{view.generation}/{digest[:16]}"


def outcome_of(result: Mapping[str, Any]) -> StepOutcome:
    """The conditions and fields of a finished check (the render job's result)."""
    problems = list(result.get("problems") or [])
    results = list(result.get("tests") or [])
    if problems:
        valid = cond(VALID, False, "TemplateInvalid", "; ".join(problems))
        tests = cond(TESTS_PASSED, None, "TemplateInvalid", "tests not run")
    else:
        valid = cond(VALID, True, "TemplateValid", "parameters and skeleton are valid")
        failed = [r for r in results if not r["passed"]]
        if failed:
            tests = cond(
                TESTS_PASSED, False, "TestFailed", f"{failed[0]['name']}: {failed[0]['message']}"
            )
        else:
            tests = cond(
                TESTS_PASSED, True, "AllPassed", f"{len(results)} of {len(results)} passed"
            )
    passed = sum(1 for r in results if r["passed"])
    return StepOutcome(
        conditions=[valid, tests],
        fields={
            "tests": [
                {"name": r["name"], "passed": r["passed"], "message": r["message"]} for r in results
            ],
            "testSummary": f"{passed}/{len(results)} passed" if results else "no tests",
        },
    )


def stopped(e: RenderError) -> StepOutcome:
    """A check stopped at a resource limit: the Template is not valid as it stands."""
    return StepOutcome(
        conditions=[
            cond(VALID, False, e.reason, str(e)),
            cond(TESTS_PASSED, None, e.reason, "tests not run"),
        ],
        fields={"tests": [], "testSummary": "not run"},
    )


class TemplateCheckStep:
    """A Template's Valid and TestsPassed conditions (step `template-check`)."""

    name = "template-check"
    condition = VALID

    def __init__(self, skeletons: SkeletonSource, renderers: Renderers) -> None:
        self._skeletons = skeletons
        self._renderers = renderers
        self._checked: dict[str, _Checked] = {}  # by uid; one entry per live Template

    def forget(self, uid: str) -> None:
        self._checked.pop(uid, None)

    async def __call__(self, ctx: StepContext) -> StepOutcome:
        return await self.run(ctx.view, ctx.config)

    async def run(self, view: EntityView, config: OperatorConfig) -> StepOutcome:
        spec = view.spec
        if not isinstance(spec, TemplateSpec):
            return StepOutcome()
        if view.deleting:
            self.forget(view.uid)
            return StepOutcome()
        cms = await self._skeletons.config_maps(view.key.namespace, spec)
        ident = _ident(view, cms)
        known = self._checked.get(view.uid)
        now = time.monotonic()
        if known is not None and known.ident == ident:
            if known.retry_at is None:
                return known.outcome
            if now < known.retry_at:
                return StepOutcome(
                    known.outcome.conditions, known.outcome.fields, known.retry_at - now
                )
        failures = known.failures if known is not None and known.ident == ident else 0
        args = {
            "namespace": view.key.namespace,
            "name": view.key.name,
            "template": spec.wire(),
            "configMaps": cms,
            "maxFiles": config.scaffold.max_files,
            "maxBytes": config.scaffold.max_bytes,
        }
        try:
            result = await self._renderers.for_config(config.scaffold).run("template_check", args)
        except RenderError as e:
            wait = min(LIMIT_BACKOFF * 2**failures, LIMIT_BACKOFF_MAX)
            outcome = stopped(e)
            self._checked[view.uid] = _Checked(ident, outcome, now + wait, failures + 1)
            return StepOutcome(outcome.conditions, outcome.fields, wait)
        outcome = outcome_of(result)
        outcome.fields["version"] = template_version(spec, cms)
        self._checked[view.uid] = _Checked(ident, outcome)
        return outcome
