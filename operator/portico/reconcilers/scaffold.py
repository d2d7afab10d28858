"""Scaffolding, acted on: render a Component's Template and publish it, exactly once.

The decisions (values against the schema, the render, the Template's own tests) are pure
(portico.domain.scaffold, portico.rendering); this module fetches what they need (the
Template's ConfigMaps, the GitHub token) and calls a publisher. Progress is recorded in
status.repository; a repository that already holds this Component's scaffold is adopted,
so a crash at any point and a retry never make a second repository or commit.
"""

import contextlib
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from portico.clients import git as git_publisher
from portico.clients.github import GitHubClient
from portico.clients.kube import KubeClient
from portico.clients.publishing import Published, RepoRequest
from portico.domain.conditions import SCAFFOLDED, VALID, cond
from portico.domain.entity import EntityView
from portico.domain.refs import EntityKey
from portico.domain.scaffold import (
    render_context,
    run_template_tests,
    skeleton_files,
    template_problems,
    values_problem,
    with_defaults,
)
from portico.errors import Conflict, NotFound, PorticoError, RejectedError, TransientError
from portico.metrics import RATE_LIMIT_WAITS, SCAFFOLDS
from portico.models.component import ComponentSpec
from portico.models.config import OperatorConfig
from portico.models.template import TemplateSpec
from portico.reconcilers.holdoff import Holdoff
from portico.reconcilers.secrets import read_token
from portico.rendering.skeleton import Limits, RenderError, render_skeleton, render_string

log = logging.getLogger("portico.scaffold")
TESTS_PASSED = "TestsPassed"


class ScaffoldGraph(Protocol):
    def get(self, key: EntityKey) -> EntityView | None: ...


@dataclass(frozen=True)
class StepOutcome:
    """Conditions and status fields a step contributes, and when to look again."""

    conditions: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    retry_after: float | None = None


def template_key_of(view: EntityView, spec: ComponentSpec) -> EntityKey:
    assert spec.scaffold is not None
    ref = spec.scaffold.template_ref
    return EntityKey("template", ref.namespace or view.key.namespace, ref.name)


def limits_of(config: OperatorConfig) -> Limits:
    return Limits(config.scaffold.max_files, config.scaffold.max_bytes)


class ScaffoldStep:
    def __init__(self, kube: KubeClient, config_namespace: str) -> None:
        self._kube = kube
        self._config_namespace = config_namespace
        self._github: dict[str, GitHubClient] = {}
        self._holdoff: Holdoff[StepOutcome] = Holdoff()

    # --- shared I/O ---------------------------------------------------------------------
    async def config_maps(
        self, namespace: str, template: TemplateSpec
    ) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for cm in template.skeleton.config_maps if template.skeleton else []:
            with contextlib.suppress(NotFound):
                obj = await self._kube.get(f"/api/v1/namespaces/{namespace}/configmaps/{cm.name}")
                found[cm.name] = dict(obj.get("data") or {})
        return found

    async def _token(self, config: OperatorConfig) -> str | None:
        return await read_token(self._kube, self._config_namespace, config.github.token_secret)

    def _client(self, token: str, config: OperatorConfig) -> GitHubClient:
        ident = hashlib.sha256(f"{config.github.api_url}|{config.github.throttle}|{token}".encode())
        key = ident.hexdigest()
        if key not in self._github:
            self._github[key] = GitHubClient(
                token, config.github.api_url, throttle=config.github.throttle
            )
        return self._github[key]

    # --- Templates ------------------------------------------------------------------------
    async def check_template(self, view: EntityView, config: OperatorConfig) -> StepOutcome:
        spec = view.spec
        if not isinstance(spec, TemplateSpec):
            return StepOutcome()
        cms = await self.config_maps(view.key.namespace, spec)
        problems = template_problems(spec, cms)
        if problems:
            valid = cond(VALID, False, "TemplateInvalid", "; ".join(problems))
        else:
            valid = cond(VALID, True, "TemplateValid", "parameters and skeleton are valid")
        results = run_template_tests(view.key, spec, cms, limits_of(config)) if not problems else []
        passed = sum(1 for r in results if r.passed)
        failed = [r for r in results if not r.passed]
        if problems:
            tests = cond(TESTS_PASSED, None, "TemplateInvalid", "tests not run")
        elif failed:
            tests = cond(
                TESTS_PASSED, False, "TestFailed", f"{failed[0].name}: {failed[0].message}"
            )
        else:
            tests = cond(TESTS_PASSED, True, "AllPassed", f"{passed} of {len(results)} passed")
        return StepOutcome(
            conditions=[valid, tests],
            fields={
                "tests": [
                    {"name": r.name, "passed": r.passed, "message": r.message} for r in results
                ],
                "testSummary": f"{passed}/{len(results)} passed" if results else "no tests",
            },
        )

    # --- Components -----------------------------------------------------------------------
    async def run(
        self, view: EntityView, graph: ScaffoldGraph, config: OperatorConfig, now: str
    ) -> StepOutcome | None:
        spec = view.spec
        repository = view.status.get("repository") or {}
        if not isinstance(spec, ComponentSpec) or spec.scaffold is None:
            # Scaffolding was removed from the spec: the repository still exists; keep its record.
            return StepOutcome([], {"repository": dict(repository)}) if repository else None
        if repository.get("commit"):
            return StepOutcome(
                [
                    cond(
                        SCAFFOLDED,
                        True,
                        "Scaffolded",
                        f"{repository.get('url')} at {str(repository['commit'])[:12]}",
                    )
                ],
                {"repository": dict(repository)},
            )
        if view.deleting:
            return None
        held = self._holdoff.held((view.key, view.generation))
        if held is not None:
            return held  # a rate limit or backoff is not over: no call to GitHub yet
        try:
            outcome = await self._scaffold(view, spec, graph, config, now)
        except TransientError as e:
            wait = e.retry_after or 10.0
            if e.retry_after:
                RATE_LIMIT_WAITS.labels(e.system).inc()
            SCAFFOLDS.labels("retrying").inc()
            outcome = StepOutcome(
                [cond(SCAFFOLDED, None, "PublishRetrying", f"{e}; retrying in {wait:.0f}s")],
                {},
                wait,
            )
        if outcome.retry_after:
            return self._holdoff.hold((view.key, view.generation), outcome.retry_after, outcome)
        self._holdoff.release((view.key, view.generation))
        return outcome

    def _failed(self, reason: str, message: str, retry: float | None = None) -> StepOutcome:
        return StepOutcome([cond(SCAFFOLDED, False, reason, message)], {}, retry)

    async def _scaffold(
        self,
        view: EntityView,
        spec: ComponentSpec,
        graph: ScaffoldGraph,
        config: OperatorConfig,
        now: str,
    ) -> StepOutcome:
        assert spec.scaffold is not None
        tkey = template_key_of(view, spec)
        template_view = graph.get(tkey)
        if template_view is None or not isinstance(template_view.spec, TemplateSpec):
            return self._failed(
                "TemplateNotFound", f"{tkey} not found; create it or fix spec.scaffold.templateRef"
            )
        template = template_view.spec
        cms = await self.config_maps(tkey.namespace, template)
        problems = template_problems(template, cms)
        if problems:
            return self._failed("TemplateInvalid", f"{tkey} is not valid: {'; '.join(problems)}")
        values = with_defaults(template.parameters, spec.scaffold.values or {})
        problem = values_problem(template.parameters, values)
        if problem:
            return self._failed("InvalidValues", problem)
        context = render_context(view.key, spec, tkey, values)
        try:
            files = render_skeleton(skeleton_files(template, cms), context, limits_of(config))
            target = await self._target(template, context, config)
        except RenderError as e:
            return self._failed("RenderFailed", f"{tkey}: {e}")
        if isinstance(target, StepOutcome):
            return target
        publish, req = target
        req = RepoRequest(
            **{
                **req.__dict__,
                "uid": view.uid,
                "message": f"Scaffold {view.key.name} from template {tkey.namespace}/{tkey.name}",
                "author_date": now,
            }
        )
        try:
            published = await publish(req, files)
        except Conflict as e:
            return self._failed("RepositoryConflict", str(e))
        except NotFound as e:
            return self._failed("OwnerNotFound", str(e), retry=300)
        except RejectedError as e:
            return self._failed("PublishFailed", str(e), retry=300)
        except PorticoError as e:
            if isinstance(e, TransientError):
                raise
            return self._failed("PublishFailed", str(e), retry=120)
        log.info(
            "%s: %s %s at %s",
            view.key,
            "published" if published.created else "adopted",
            published.url,
            published.commit[:12],
        )
        repository = {
            "url": published.url,
            "defaultBranch": published.default_branch,
            "commit": published.commit,
            "template": f"{tkey.namespace}/{tkey.name}",
            "scaffoldedAt": now,
        }
        return StepOutcome(
            [cond(SCAFFOLDED, True, "Scaffolded", f"{published.url} at {published.commit[:12]}")],
            {"repository": repository},
        )

    async def _target(
        self, template: TemplateSpec, context: dict[str, Any], config: OperatorConfig
    ) -> Any:
        publish = template.publish
        if publish is None or (publish.github is None and publish.git is None):
            return self._failed(
                "NoPublisher", "the Template's spec.publish sets neither github nor git"
            )
        if publish.git is not None:
            url = render_string(publish.git.url, context, "spec.publish.git.url")
            req = RepoRequest(owner="", name=url.rstrip("/").rsplit("/", 1)[-1], uid="")

            async def via_git(r: RepoRequest, files: dict[str, str]) -> Published:
                return await git_publisher.publish(url, r, files)

            return via_git, req
        gh = publish.github
        assert gh is not None
        name = render_string(
            gh.repo_name or "{{ component.name }}", context, "spec.publish.github.repoName"
        ).strip()
        req = RepoRequest(
            owner=gh.owner,
            name=name,
            uid="",
            description=str(context["component"].get("description") or ""),
            visibility=gh.visibility,
            topics=tuple(gh.topics),
            branch_protection=gh.branch_protection,
        )
        token = await self._token(config)
        if token is None:
            if config.github.fallback_git_url:
                url = render_string(
                    config.github.fallback_git_url,
                    {**context, "owner": gh.owner, "name": name},
                    "github.fallbackGitUrl",
                )

                async def via_fallback(r: RepoRequest, files: dict[str, str]) -> Published:
                    return await git_publisher.publish(url, r, files)

                return via_fallback, req
            return self._failed(
                "NoGitHubToken",
                f"Secret {self._config_namespace}/{config.github.token_secret} (key token) is "
                "missing: create it to publish to GitHub",
                retry=60,
            )
        return self._client(token, config).publish, req

    async def archive(self, view: EntityView, config: OperatorConfig) -> None:
        """deletionPolicy Archive: archive the repository this Component scaffolded."""
        spec = view.spec
        repository = view.status.get("repository") or {}
        if not isinstance(spec, ComponentSpec) or not repository.get("url"):
            return
        url = str(repository["url"])
        if "github.com/" not in url and not url.startswith(config.github.api_url):
            owner_name = None
        else:
            owner_name = url.rstrip("/").removesuffix(".git").split("/")[-2:]
        token = await self._token(config)
        if token is None or owner_name is None:
            log.warning(
                "%s: cannot archive %s (no GitHub token, or not a GitHub repository)", view.key, url
            )
            return
        if await self._client(token, config).archive(owner_name[0], owner_name[1], view.uid):
            log.info("%s: archived %s", view.key, url)
