"""Scaffolding, acted on: render a Component's Template and publish it, exactly once.

The Template and the values are tenant input. Where they may publish is decided first, from
the tenancy policy of the Template's namespace (portico.domain.tenancy), before any tenant
code runs; the render (values against the schema, the skeleton, the publish URL or repository
name) happens in the sandbox (portico.clients.sandbox), never on the event loop. A render
stopped at a limit is held off, keyed by the Component's and the Template's generations, so a
bomb is not rendered again in a loop. Progress is recorded in status.repository; a repository
that already holds this Component's scaffold is adopted, so a crash at any point and a retry
never make a second repository or commit.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from portico.clients import git as git_publisher
from portico.clients.kube import KubeClient
from portico.clients.publishing import Published, RepoRequest
from portico.clients.sandbox import Renderers
from portico.domain.conditions import SCAFFOLDED, cond
from portico.domain.entity import EntityView
from portico.domain.refs import EntityKey
from portico.domain.templates import template_key, template_of, template_view
from portico.domain.tenancy import (
    Refusal,
    Tenant,
    git_url_refusal,
    github_owner_refusal,
    repo_name_refusal,
    tenant_for,
    url_problem,
)
from portico.domain.upgrades import template_version
from portico.errors import (
    CleanupPending,
    Conflict,
    NotFound,
    PorticoError,
    RejectedError,
    TransientError,
)
from portico.metrics import RATE_LIMIT_WAITS, SCAFFOLDS
from portico.models.component import ComponentSpec
from portico.models.config import OperatorConfig
from portico.models.template import TemplateSpec
from portico.reconcilers.github_access import GitHubAccess
from portico.reconcilers.holdoff import Holdoff, held_call
from portico.reconcilers.outcome import StepOutcome
from portico.reconcilers.skeletons import SkeletonSource
from portico.reconcilers.steps import StepContext
from portico.rendering.skeleton import RenderError

log = logging.getLogger("portico.scaffold")

GIT_URL = "spec.publish.git.url"
REPO_NAME = "spec.publish.github.repoName"
FALLBACK = "github.fallbackGitUrl"
LIMIT_HOLD = 600.0  # seconds before a render stopped at a limit is tried again

Publish = Callable[[RepoRequest, dict[str, str]], Awaitable[Published]]


class ScaffoldGraph(Protocol):
    def get(self, key: EntityKey) -> EntityView | None: ...

    def namespace_labels(self, namespace: str) -> dict[str, str]: ...


def _failed(reason: str, message: str, retry: float | None = None) -> StepOutcome:
    return StepOutcome([cond(SCAFFOLDED, False, reason, message)], {}, retry)


def _refused(refusal: Refusal, tkey: EntityKey) -> StepOutcome:
    return _failed(refusal.reason, f"template {tkey.namespace}/{tkey.name}: {refusal.message}")


def strings_to_render(template: TemplateSpec, config: OperatorConfig) -> list[dict[str, Any]]:
    """The one-line templates the render job renders besides the skeleton."""
    publish = template.publish
    if publish is not None and publish.git is not None:
        return [{"label": GIT_URL, "source": publish.git.url}]
    if publish is None or publish.github is None:
        return []
    gh = publish.github
    out: list[dict[str, Any]] = [
        {"label": REPO_NAME, "source": gh.repo_name or "{{ component.name }}"}
    ]
    if config.github.fallback_git_url:
        extra = {"owner": gh.owner, "name": f"$string:{REPO_NAME}"}
        out.append({"label": FALLBACK, "source": config.github.fallback_git_url, "extra": extra})
    return out


def render_args(
    view: EntityView,
    spec: ComponentSpec,
    tkey: EntityKey,
    template: TemplateSpec,
    config_maps: dict[str, dict[str, str]],
    config: OperatorConfig,
) -> dict[str, Any]:
    """The sandbox's scaffold_render job for this Component (scaffolds and updates alike)."""
    assert spec.scaffold is not None
    return {
        "component": {"namespace": view.key.namespace, "name": view.key.name},
        "componentSpec": spec.wire(),
        "templateKey": {"namespace": tkey.namespace, "name": tkey.name},
        "template": template.wire(),
        "configMaps": config_maps,
        "values": spec.scaffold.values or {},
        "maxFiles": config.scaffold.max_files,
        "maxBytes": config.scaffold.max_bytes,
        "strings": strings_to_render(template, config),
    }


class ScaffoldStep:
    """A Component's repository, scaffolded from its Template once (step `scaffold`)."""

    name = "scaffold"
    condition = SCAFFOLDED

    def __init__(
        self,
        kube: KubeClient,
        github: GitHubAccess,
        skeletons: SkeletonSource,
        renderers: Renderers,
    ) -> None:
        self._kube = kube
        self._github = github
        self._skeletons = skeletons
        self._renderers = renderers
        self._holdoff: Holdoff[StepOutcome] = Holdoff()

    async def __call__(self, ctx: StepContext) -> StepOutcome | None:
        return await self.run(ctx.view, ctx.graph, ctx.config, ctx.now)

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
        template = template_view(view, graph)
        hold = (view.key, view.generation, template.generation if template else 0)
        # A rate limit, a backoff or a render limit that is not over: the outcome it had.
        return await held_call(
            self._holdoff, hold, lambda: self._attempt(view, spec, graph, config, now)
        )

    async def _attempt(
        self,
        view: EntityView,
        spec: ComponentSpec,
        graph: ScaffoldGraph,
        config: OperatorConfig,
        now: str,
    ) -> StepOutcome:
        try:
            return await self._scaffold(view, spec, graph, config, now)
        except TransientError as e:
            wait = e.retry_after or 10.0
            if e.retry_after:
                RATE_LIMIT_WAITS.labels(e.system).inc()
            SCAFFOLDS.labels("retrying").inc()
            return StepOutcome(
                [cond(SCAFFOLDED, None, "PublishRetrying", f"{e}; retrying in {wait:.0f}s")],
                {},
                wait,
            )

    async def _scaffold(
        self,
        view: EntityView,
        spec: ComponentSpec,
        graph: ScaffoldGraph,
        config: OperatorConfig,
        now: str,
    ) -> StepOutcome:
        assert spec.scaffold is not None
        tkey = template_key(view)
        template = template_of(view, graph)
        if tkey is None or template is None:
            return _failed(
                "TemplateNotFound", f"{tkey} not found; create it or fix spec.scaffold.templateRef"
            )
        publish = template.publish
        if publish is None or (publish.github is None and publish.git is None):
            return _failed("NoPublisher", "the Template's spec.publish sets neither github nor git")
        # The Template's namespace decides where it may publish: its author chose the target,
        # and no value a Component passes in can take it outside that namespace's rule.
        tenant = tenant_for(tkey.namespace, graph.namespace_labels(tkey.namespace), config)
        if publish.github is not None:
            refusal = github_owner_refusal(tenant, publish.github.owner)
            if refusal is not None:
                return _refused(refusal, tkey)
        config_maps = await self._skeletons.config_maps(tkey.namespace, template)
        args = render_args(view, spec, tkey, template, config_maps, config)
        try:
            rendered = await self._renderers.for_config(config.scaffold).run(
                "scaffold_render", args
            )
        except RenderError as e:
            if e.reason == "RenderFailed":
                return _failed("RenderFailed", f"{tkey}: {e}")
            return _failed(e.reason, f"{tkey}: {e}", retry=LIMIT_HOLD)
        if "refused" in rendered:
            return _failed(rendered["refused"]["reason"], rendered["refused"]["message"])
        version = template_version(template, config_maps)
        strings = {k: str(v).strip() for k, v in rendered["strings"].items()}
        target = await self._target(template, strings, spec, config, tenant, tkey)
        if isinstance(target, StepOutcome):
            return target
        publish_fn, req = target
        req = RepoRequest(
            **{
                **req.__dict__,
                "uid": view.uid,
                "message": f"Scaffold {view.key.name} from template {tkey.namespace}/{tkey.name}",
                "author_date": now,
            }
        )
        rendered_as = {"templateVersion": version, "values": spec.scaffold.values or {}}
        return await self._publish(view, tkey, publish_fn, req, rendered["files"], now, rendered_as)

    async def _publish(
        self,
        view: EntityView,
        tkey: EntityKey,
        publish: Publish,
        req: RepoRequest,
        files: dict[str, str],
        now: str,
        rendered_as: dict[str, Any],
    ) -> StepOutcome:
        try:
            published = await publish(req, files)
        except Conflict as e:
            return _failed("RepositoryConflict", str(e))
        except NotFound as e:
            return _failed("OwnerNotFound", str(e), retry=300)
        except RejectedError as e:
            return _failed("PublishFailed", str(e), retry=300)
        except PorticoError as e:
            if isinstance(e, TransientError):
                raise
            return _failed("PublishFailed", str(e), retry=120)
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
            **rendered_as,
        }
        return StepOutcome(
            [cond(SCAFFOLDED, True, "Scaffolded", f"{published.url} at {published.commit[:12]}")],
            {"repository": repository},
        )

    async def _target(
        self,
        template: TemplateSpec,
        strings: dict[str, str],
        spec: ComponentSpec,
        config: OperatorConfig,
        tenant: Tenant,
        tkey: EntityKey,
    ) -> tuple[Publish, RepoRequest] | StepOutcome:
        """Where to publish the rendered files, inside what the tenancy policy allows."""
        publish = template.publish
        assert publish is not None
        if publish.git is not None:
            url = strings[GIT_URL]
            refusal = git_url_refusal(tenant, url, config)
            if refusal is not None:
                return _refused(refusal, tkey)
            allow_file = config.tenancy.allow_file_urls

            async def via_git(r: RepoRequest, files: dict[str, str]) -> Published:
                return await git_publisher.publish(url, r, files, allow_file=allow_file)

            return via_git, RepoRequest(owner="", name=url.rstrip("/").rsplit("/", 1)[-1], uid="")
        gh = publish.github
        assert gh is not None
        name = strings[REPO_NAME]
        refusal = repo_name_refusal(name, REPO_NAME)
        if refusal is not None:
            return _refused(refusal, tkey)
        req = RepoRequest(
            owner=gh.owner,
            name=name,
            uid="",
            description=spec.description or "",
            visibility=gh.visibility,
            topics=tuple(gh.topics),
            branch_protection=gh.branch_protection,
        )
        token = await self._github.token(config)
        if token is not None:
            return self._github.client(token, config).publish, req
        if FALLBACK in strings:
            fallback = strings[FALLBACK]
            # The admin chose the fallback's scheme; the owner and the name are checked above.
            is_file = fallback.startswith("file:")
            problem = url_problem(fallback, allow_file=is_file)
            if problem is not None:
                return _failed(
                    "URLNotAllowed", f"portico-config {FALLBACK}: {fallback!r} {problem}"
                )

            async def via_fallback(r: RepoRequest, files: dict[str, str]) -> Published:
                return await git_publisher.publish(fallback, r, files, allow_file=is_file)

            return via_fallback, req
        return _failed("NoGitHubToken", self._github.missing_token(config), retry=60)

    async def archive(self, view: EntityView, config: OperatorConfig) -> None:
        """deletionPolicy Archive: archive the repository this Component scaffolded."""
        spec = view.spec
        repository = view.status.get("repository") or {}
        if not isinstance(spec, ComponentSpec) or not repository.get("url"):
            return
        url = str(repository["url"])
        if "github.com/" not in url and not url.startswith(config.github.api_url):
            # Published with git: nothing to archive there, and never will be.
            log.info(
                "%s: %s is not a GitHub repository; deletionPolicy Archive skipped", view.key, url
            )
            return
        owner_name = url.rstrip("/").removesuffix(".git").split("/")[-2:]
        token = await self._github.token(config)
        if token is None:
            raise CleanupPending(f"cannot archive {url}: {self._github.missing_token(config)}")
        if await self._github.client(token, config).archive(owner_name[0], owner_name[1], view.uid):
            log.info("%s: archived %s", view.key, url)
