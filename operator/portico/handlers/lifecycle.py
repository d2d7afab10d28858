"""Operator start and stop: kopf settings, long-lived clients and the engine's workers."""

import logging
from typing import Any

import kopf

from portico.clients.kube import KubeClient
from portico.config import from_env
from portico.domain.sharding import FINALIZER
from portico.handlers.views import ViewCache
from portico.kopf_gate import operator_paused
from portico.metrics import register_catalog_collector, unregister
from portico.reconcilers.alerts import AlertPoller
from portico.reconcilers.backstage_export import views_of
from portico.reconcilers.catalog import CatalogEngine
from portico.reconcilers.config_source import ConfigSource


def configure(settings: kopf.OperatorSettings, finalizer: str = FINALIZER) -> None:
    """Where kopf keeps its bookkeeping, and how it watches.

    Progress and diff-base go to `status.kopf` (declared with preserve-unknown-fields in every
    CRD, so it is not pruned). Status is the operator's; Argo CD ignores it when diffing, so
    an object synced from git never shows drift from kopf's notes. Nothing goes to metadata
    but the cleanup finalizer, whose name is the shard's (domain/sharding.py).
    """
    settings.persistence.progress_storage = kopf.StatusProgressStorage(field="status.kopf.progress")
    settings.persistence.diffbase_storage = kopf.StatusDiffBaseStorage(
        field="status.kopf.lastHandledConfiguration"
    )
    settings.persistence.finalizer = finalizer
    settings.posting.level = logging.WARNING
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 60


def config_changed(memo: Any) -> None:
    """Re-decide every entity (guardrails, publishers, scorecards; Templates' checks are
    cached, so they are not rendered again) and re-read alerts, dashboards and GitHub now."""
    for kind in ("component", "api", "system", "template"):
        memo.engine.requeue(kind)
    if memo.engine.alerts is not None:
        memo.engine.alerts.wake()
    memo.engine.dashboard_search.wake()
    memo.engine.github_poll.wake()


@kopf.on.startup()
async def startup(
    *,
    settings: kopf.OperatorSettings,
    memo: Any,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    config = from_env()
    sharding = config.sharding
    configure(settings, sharding.finalizer)
    settings.peering.lifetime = config.peering_lifetime
    memo.views = ViewCache()  # one parse per object version, for every handler
    memo.kube = KubeClient.from_environment()
    peering = sharding.peering(config.peering)
    if peering and await memo.kube.ensure_peering(peering):
        logger.info("created the ClusterKopfPeering %r", peering)
    if sharding.enabled:
        logger.info(
            "%s: indexing the whole catalog, writing only its own namespaces", sharding.describe()
        )
    memo.engine = CatalogEngine(
        memo.kube,
        workers=config.workers,
        sharding=sharding,
        config=lambda: memo.config.current,
        config_namespace=config.config_namespace,
    )
    memo.config = ConfigSource(
        memo.kube,
        config.config_namespace,
        config.config_name,
        on_change=lambda: config_changed(memo),
    )
    memo.config.start(await memo.config.load())
    memo.engine.alerts = AlertPoller(lambda: memo.config.current, memo.engine.requeue_alerting)
    for poller in (memo.engine.alerts, memo.engine.dashboard_search, memo.engine.github_poll):
        poller.paused = operator_paused  # a standby replica spends no external budget
    memo.engine.alerts.start()
    memo.collector = register_catalog_collector(lambda: memo.engine.graph)
    memo.engine.start()
    if getattr(memo, "backstage", None) is not None:
        memo.backstage.attach(views_of(memo.engine))


@kopf.on.cleanup()
async def cleanup(*, memo: Any, **_: Any) -> None:
    if getattr(memo, "backstage", None) is not None:
        memo.backstage.detach()
    await memo.config.stop()
    if memo.engine.alerts is not None:
        await memo.engine.alerts.stop()
    await memo.engine.stop()
    await memo.kube.aclose()
    unregister(memo.collector)
