"""Events are a courtesy (reconcilers/events.py, the log filter in cli.py): an Event the API
server refuses never fails a reconcile or a cleanup, a namespace being deleted is not worth
a warning, and kopf's own "failed temporarily" record is logged as a warning and not posted
(the cleanup posts its own Events)."""

import logging
from typing import Any

import httpx
import pytest

from portico.cli import _RetriesAreWarnings
from portico.clients.kube import KubeClient
from portico.domain.entity import EntityKey
from portico.domain.events import entity_event
from portico.reconcilers.events import post_event

TERMINATING = {
    "kind": "Status",
    "status": "Failure",
    "message": 'events "x" is forbidden: unable to create new content in namespace shop '
    "because it is being terminated",
    "reason": "Forbidden",
    "code": 403,
}


def event() -> dict[str, Any]:
    key = EntityKey("component", "shop", "web")
    return entity_event(
        key,
        "uid-1",
        reason="CleanupPending",
        note="dashboard: Grafana answered 503",
        warning=True,
        action="Delete",
        now="2026-01-01T00:00:00Z",
        instance="portico-0",
    )


def kube(status: int, body: dict[str, Any]) -> tuple[KubeClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    http = httpx.AsyncClient(base_url="https://api", transport=httpx.MockTransport(handle))
    return KubeClient(http), seen


async def test_an_event_is_posted_in_the_entitys_namespace() -> None:
    client, seen = kube(201, {})
    assert await post_event(client, event(), "the CleanupPending event") is True
    assert [r.url.path for r in seen] == ["/apis/events.k8s.io/v1/namespaces/shop/events"]
    assert b'"type":"Warning"' in seen[0].content.replace(b" ", b"")


async def test_a_namespace_being_deleted_is_not_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, _ = kube(403, TERMINATING)
    with caplog.at_level(logging.DEBUG, logger="portico.events"):
        assert await post_event(client, event(), "the CleanupPending event") is False
    assert [r.levelno for r in caplog.records if r.name == "portico.events"] == [logging.DEBUG]


async def test_any_other_refusal_is_a_warning_and_nothing_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, _ = kube(403, {**TERMINATING, "message": "events is forbidden: User cannot create"})
    with caplog.at_level(logging.DEBUG, logger="portico.events"):
        assert await post_event(client, event(), "the CleanupPending event") is False
    warnings = [r for r in caplog.records if r.name == "portico.events"]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert "CleanupPending" in warnings[0].getMessage()


def record(level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("kopf.objects", level, __file__, 1, message, None, None)


def test_kopfs_retry_is_a_warning_that_kopf_does_not_post() -> None:
    retry = record(logging.ERROR, "Handler 'cleanup' failed temporarily: waiting for Argo CD")
    assert _RetriesAreWarnings().filter(retry)
    assert (retry.levelno, retry.levelname) == (logging.WARNING, "WARNING")
    assert getattr(retry, "k8s_skip", False) is True


def test_a_real_handler_error_stays_an_error_and_is_posted() -> None:
    crash = record(logging.ERROR, "Handler 'reconcile' failed with an exception. Will retry.")
    assert _RetriesAreWarnings().filter(crash)
    assert crash.levelno == logging.ERROR
    assert not getattr(crash, "k8s_skip", False)
