"""Template updates, acted on (step `template-update`): when a Template's render changes, or
a Component's scaffold.values do, the repository scaffolded for it gets the new render as a
pull request (GitHub) or an update branch (git), once per Template version and values.

Decisions (which version, behind or not, what UpToDate says) are pure
(portico.domain.upgrades); rendering runs in the sandbox like a scaffold; publishing goes
through the channel the repository was scaffolded with (update_channel.py). Every write
first looks at what is there (clients/github_updates.py, clients/git_update.py), and what
was proposed is recorded in status.repository.update, so a restart resumes without
duplicates. An open pull request is read again every `scaffold.updateRecheckSeconds` (sooner
while GitHub computes its mergeability) until it is merged or closed.
"""

import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portico.clients.publishing import Proposal, UpdateRequest
from portico.clients.sandbox import Renderers
from portico.domain.conditions import UP_TO_DATE, cond
from portico.domain.refs import EntityKey
from portico.domain.templates import template_key, template_view
from portico.domain.tenancy import tenant_for
from portico.domain.upgrades import (
    CLOSED,
    disabled,
    promote,
    rendered_at,
    same_values,
    template_not_ready,
    up_to_date,
    update_condition,
    update_policy,
)
from portico.errors import PorticoError, TransientError
from portico.metrics import TEMPLATE_UPDATES
from portico.models.component import ComponentSpec
from portico.models.template import TemplateSpec
from portico.reconcilers.github_access import GitHubAccess
from portico.reconcilers.holdoff import Holdoff, held_call
from portico.reconcilers.outcome import StepOutcome
from portico.reconcilers.scaffold import LIMIT_HOLD, render_args
from portico.reconcilers.skeletons import SkeletonSource
from portico.reconcilers.steps import StepContext
from portico.reconcilers.update_channel import Channel, Refused, channel_for
from portico.rendering.skeleton import RenderError

log = logging.getLogger("portico.updates")

MERGEABLE_RECHECK = 15.0  # seconds: GitHub computes mergeability in the background
FAILED_RETRY = 300.0
CHECK_WAIT = 15.0  # seconds: a Template's check is due


@dataclass(frozen=True)
class _Update:
    """One Component's update towards a Template version: what each stage reads."""

    ctx: StepContext
    template: TemplateSpec
    tkey: EntityKey
    version: str
    repository: dict[str, Any]


def _outcome(
    repository: Mapping[str, Any], condition: dict[str, Any], retry: float | None = None
) -> StepOutcome:
    return StepOutcome([condition], {"repository": dict(repository)}, retry)


def _spread(uid: str, seconds: float) -> float:
    """The recheck interval, spread by ±10% per Component so a wave's rechecks do not
    arrive at GitHub together."""
    return seconds * (0.9 + 0.2 * (zlib.crc32(uid.encode()) % 1000) / 1000)


class UpgradeStep:
    """A scaffolded repository follows its Template (step `template-update`)."""

    name = "template-update"
    condition = UP_TO_DATE

    def __init__(
        self, github: GitHubAccess, skeletons: SkeletonSource, renderers: Renderers
    ) -> None:
        self._github = github
        self._skeletons = skeletons
        self._renderers = renderers
        self._holdoff: Holdoff[StepOutcome] = Holdoff()

    async def __call__(self, ctx: StepContext) -> StepOutcome | None:
        view, spec = ctx.view, ctx.view.spec
        repository = dict(view.status.get("repository") or {})
        if (
            not isinstance(spec, ComponentSpec)
            or spec.scaffold is None
            or not repository.get("commit")
            or view.deleting
        ):
            return None
        tkey = template_key(view)
        tview = template_view(view, ctx.graph)
        if tkey is None or tview is None or not isinstance(tview.spec, TemplateSpec):
            return _outcome(
                repository,
                cond(UP_TO_DATE, None, "TemplateNotFound", f"template {tkey} not found"),
            )
        template = tview.spec
        # The version is the Template check's (status.version, for the generation it saw):
        # a Component's reconcile reads no ConfigMap and hashes no skeleton to know it.
        checked = tview.status.get("observedGeneration") == tview.generation
        version = str(tview.status.get("version") or "") if checked else ""
        if not version:
            # The Template changed and its check has not written yet: say what was said
            # before (no write for every Component of a Template whose title was edited),
            # and look again soon (its check also queues every Component when it has run).
            said = next(
                (c for c in view.status.get("conditions") or [] if c.get("type") == UP_TO_DATE),
                None,
            )
            if said is None:
                message = f"template {tkey.namespace}/{tkey.name} is being checked"
                said = cond(UP_TO_DATE, None, "TemplateNotReady", message)
            kept = {k: said[k] for k in ("type", "status", "reason", "message") if k in said}
            return StepOutcome([kept], {"repository": repository}, CHECK_WAIT)
        values = spec.scaffold.values or {}
        update = repository.get("update")
        if rendered_at(repository, version, values) and not update:
            return _outcome(repository, up_to_date(tkey, version))
        if update and rendered_at(update, version, values):
            if (update.get("pullRequest") or {}).get("state") == CLOSED:
                return _outcome(repository, update_condition(update, tkey, repository["url"]))
            return await held_call(
                self._holdoff,
                ("recheck", view.uid, update.get("commit")),
                lambda: self._recheck(_Update(ctx, template, tkey, version, repository)),
            )
        if update_policy(template, spec) == "None":
            return _outcome(repository, disabled(tkey, version))
        why = template_not_ready(tview.status, version)
        if why is not None:
            checking = why == "is being checked"
            return _outcome(
                repository,
                cond(
                    UP_TO_DATE,
                    None if checking else False,
                    "TemplateNotReady",
                    f"version {version} of template {tkey.namespace}/{tkey.name} {why}; "
                    "nothing is proposed until it is Valid and its tests pass",
                ),
            )
        return await held_call(
            self._holdoff,
            ("propose", view.uid, view.generation, version),
            lambda: self._propose(_Update(ctx, template, tkey, version, repository)),
        )

    async def _recheck(self, u: _Update) -> StepOutcome:
        """An open update, read again: merged, closed, conflicting?"""
        update = dict(u.repository["update"])
        number = (update.get("pullRequest") or {}).get("number")
        if number is None:  # git: proposing the same render again only looks (merged?)
            return await self._propose(u)
        channel = await self._channel(u, {})
        if isinstance(channel, StepOutcome):
            return channel
        assert channel.read_pull is not None
        try:
            proposal = await channel.read_pull(int(number))
        except PorticoError as e:
            return self._failed(u.repository, e)
        return self._after(u, proposal, update.get("values") or {})

    async def _channel(self, u: _Update, strings: Mapping[str, str]) -> Channel | StepOutcome:
        ctx, tkey = u.ctx, u.tkey
        tenant = tenant_for(tkey.namespace, ctx.graph.namespace_labels(tkey.namespace), ctx.config)
        found = await channel_for(
            str(u.repository["url"]), u.template, strings, tenant, tkey, ctx.config, self._github
        )
        if isinstance(found, Refused):
            return _outcome(
                u.repository, cond(UP_TO_DATE, False, found.reason, found.message), FAILED_RETRY
            )
        return found

    async def _propose(self, u: _Update) -> StepOutcome:
        ctx, template, tkey, version, repository = (
            u.ctx,
            u.template,
            u.tkey,
            u.version,
            u.repository,
        )
        view, config = ctx.view, ctx.config
        config_maps = await self._skeletons.config_maps(tkey.namespace, template)
        spec = view.spec
        assert isinstance(spec, ComponentSpec)
        assert spec.scaffold is not None
        values = spec.scaffold.values or {}
        args = render_args(view, spec, tkey, template, config_maps, config)
        try:
            rendered = await self._renderers.for_config(config.scaffold).run(
                "scaffold_render", args
            )
        except RenderError as e:
            retry = None if e.reason == "RenderFailed" else LIMIT_HOLD
            return _outcome(repository, cond(UP_TO_DATE, False, e.reason, f"{tkey}: {e}"), retry)
        if "refused" in rendered:
            refused = rendered["refused"]
            TEMPLATE_UPDATES.labels("failed").inc()
            return _outcome(
                repository, cond(UP_TO_DATE, False, refused["reason"], refused["message"])
            )
        strings = {k: str(v).strip() for k, v in rendered["strings"].items()}
        channel = await self._channel(u, strings)
        if isinstance(channel, StepOutcome):
            return channel
        req = self._request(u, channel, values)
        try:
            proposal = await channel.propose(req, rendered["files"])
        except PorticoError as e:
            return self._failed(repository, e)
        if proposal.created:
            log.info("%s: version %s of %s proposed on %s", view.key, version, tkey, req.branch)
        return self._after(u, proposal, values)

    def _request(self, u: _Update, channel: Channel, values: Mapping[str, Any]) -> UpdateRequest:
        view, tkey, repository, version, now = (
            u.ctx.view,
            u.tkey,
            u.repository,
            u.version,
            u.ctx.now,
        )
        name = f"{tkey.namespace}/{tkey.name}"
        new_values = not same_values(repository.get("values"), values)
        what = f"template {name} version {version}" + (" with new values" if new_values else "")
        body = (
            f"Portico rendered this repository again from {what}, for Component "
            f"{view.key.namespace}/{view.key.name}.\n\n"
            "The head branch holds only Portico's pure renders of the template, so this pull "
            "request shows exactly what changed in the render since the last one you merged. "
            "Merge it with a merge commit to keep the next update's diff to that update alone.\n\n"
            f"Portico-Template-Version: {version}\n"
        )
        return UpdateRequest(
            owner=channel.owner,
            name=channel.name,
            uid=view.uid,
            base_commit=str(repository["commit"]),
            default_branch=str(repository.get("defaultBranch") or "main"),
            version=version,
            title=f"Update to {what}",
            body=body,
            message=f"Render {what}",
            author_date=now,
        )

    def _failed(self, repository: Mapping[str, Any], e: PorticoError) -> StepOutcome:
        if isinstance(e, TransientError):
            wait = e.retry_after or 30.0
            TEMPLATE_UPDATES.labels("retrying").inc()
            condition = cond(UP_TO_DATE, None, "UpdateRetrying", f"{e}; retrying in {wait:.0f}s")
            return _outcome(repository, condition, wait)
        TEMPLATE_UPDATES.labels("failed").inc()
        return _outcome(repository, cond(UP_TO_DATE, False, "UpdateFailed", str(e)), FAILED_RETRY)

    def _after(self, u: _Update, proposal: Proposal, values: Mapping[str, Any]) -> StepOutcome:
        """Record where the update stands, and when to look again."""
        ctx, tkey, repository, version = u.ctx, u.tkey, u.repository, u.version
        out = dict(repository)
        before = dict(out.get("update") or {})
        if proposal.commit is None or proposal.merged:
            if proposal.commit is None:
                TEMPLATE_UPDATES.labels("unchanged").inc()
                out.pop("update", None)
                out |= {"templateVersion": version, "values": dict(values)}
            else:
                TEMPLATE_UPDATES.labels("merged").inc()
                out["update"] = {**before, "templateVersion": version, "values": dict(values)}
                out = promote(out)
            return _outcome(out, up_to_date(tkey, version))
        update: dict[str, Any] = {
            "templateVersion": version,
            "values": dict(values),
            "commit": proposal.commit,
            "branch": proposal.branch,
            "proposedAt": before.get("proposedAt")
            if before.get("commit") == proposal.commit
            else ctx.now,
        }
        if proposal.pull_number is not None:
            pull: dict[str, Any] = {
                "number": proposal.pull_number,
                "url": proposal.pull_url,
                "state": proposal.pull_state,
            }
            if proposal.mergeable is not None:
                pull["mergeable"] = proposal.mergeable
            update["pullRequest"] = pull
        out["update"] = update
        if proposal.created:
            TEMPLATE_UPDATES.labels("proposed").inc()
        if proposal.pull_state == CLOSED:
            TEMPLATE_UPDATES.labels("declined").inc()
            return _outcome(out, update_condition(update, tkey, str(out["url"])))
        waiting = proposal.pull_number is not None and proposal.mergeable is None
        retry = (
            MERGEABLE_RECHECK
            if waiting
            else _spread(ctx.view.uid, ctx.config.scaffold.update_recheck_seconds)
        )
        return _outcome(out, update_condition(update, tkey, str(out["url"])), retry)
