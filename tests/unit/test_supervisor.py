"""Background tasks under `supervise`: restarted after a crash with a growing, capped and
jittered back-off that a long enough run resets, counted in
portico_background_restarts_total{task}, stopped cleanly by cancellation; and the config
watch, which must outlive a malformed watch line and still apply the configuration after it,
and the alert poller, which must outlive an answer nothing expected.
"""

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from portico.clients.kube import KubeClient
from portico.clients.prometheus import PrometheusClient
from portico.models.config import OperatorConfig, PrometheusConfig
from portico.reconcilers.alerts import AlertPoller
from portico.reconcilers.config_source import ConfigSource
from portico.reconcilers.supervisor import backoff, supervise


def restarts(task: str) -> float:
    value = REGISTRY.get_sample_value("portico_background_restarts_total", {"task": task})
    return value or 0.0


def test_backoff_doubles_up_to_the_cap_and_is_jittered() -> None:
    assert [backoff(n, base=1, cap=10, jitter=1) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert backoff(3, base=1, cap=10, jitter=0.5) == 2
    for _ in range(100):
        assert 2 <= backoff(2, base=2, cap=60) < 4


async def test_a_crashing_task_is_restarted_counted_and_stopped_by_cancel(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs = 0
    running = asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs <= 2:
            raise ValueError(f"bad line {runs}")
        running.set()
        await asyncio.Event().wait()  # runs until cancelled

    before = restarts("flaky")
    task = asyncio.create_task(supervise("flaky", flaky, base=0.01, cap=0.05))
    await asyncio.wait_for(running.wait(), 5)
    assert runs == 3
    assert restarts("flaky") - before == 2
    crashes = [r for r in caplog.records if r.name == "portico.supervisor"]
    assert [r.levelno for r in crashes] == [logging.ERROR, logging.ERROR]
    assert "flaky" in crashes[0].getMessage()
    assert crashes[0].exc_info is not None
    assert "bad line 1" in str(crashes[0].exc_info[1])

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert restarts("flaky") - before == 2  # a cancellation is not a crash
    assert runs == 3


async def test_a_run_that_lasted_resets_the_back_off(caplog: pytest.LogCaptureFixture) -> None:
    """Three quick crashes in a row wait longer each time; after a run that lasted
    `reset_after`, the next crash is the first again."""
    runs = 0
    done = asyncio.Event()

    async def task() -> None:
        nonlocal runs
        runs += 1
        if runs == 4:
            await asyncio.sleep(0.25)  # a healthy run (reset_after = 0.2)
        if runs == 5:
            done.set()
            await asyncio.Event().wait()
        raise RuntimeError(f"crash {runs}")

    supervisor = asyncio.create_task(
        supervise("resets", task, base=0.005, cap=1.0, reset_after=0.2)
    )
    try:
        await asyncio.wait_for(done.wait(), 5)
    finally:
        supervisor.cancel()
        await asyncio.gather(supervisor, return_exceptions=True)
    in_a_row = [r.args[1] for r in caplog.records if r.name == "portico.supervisor"]
    assert in_a_row == [1, 2, 3, 1]


async def test_a_task_that_returns_is_not_restarted() -> None:
    runs: list[int] = []

    async def once() -> None:
        runs.append(1)

    before = restarts("once")
    await asyncio.wait_for(supervise("once", once, base=0.01), 5)
    assert runs == [1]
    assert restarts("once") == before


def _configmap(interval: int, rv: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "portico-config", "resourceVersion": rv},
        "data": {"config.yaml": f"prometheus: {{interval: {interval}}}\n"},
    }


def _line(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}).encode() + b"\n"


async def test_the_config_watch_survives_a_malformed_line_and_applies_the_next_config() -> None:
    """The first watch stream breaks off mid-line (a proxy cut it): the watch is restarted
    after a back-off, re-lists, and the configuration that arrives on the next stream is
    applied. (Before `supervise`, the ValueError ended the watch for good.)"""
    stored = _configmap(10, "1")
    requests: list[str] = []
    watching_on = asyncio.Event()

    async def api_server(request: httpx.Request) -> httpx.Response:
        nonlocal stored
        if request.url.params.get("watch") != "true":
            requests.append("get")
            return httpx.Response(200, json=stored)
        requests.append(f"watch rv={request.url.params.get('resourceVersion')}")
        watches = sum(r.startswith("watch") for r in requests)
        if watches == 1:
            stored = _configmap(20, "2")
            return httpx.Response(200, content=_line("MODIFIED", stored) + b'{"type": "MOD')
        if watches == 2:
            stored = _configmap(40, "4")
            return httpx.Response(200, content=_line("MODIFIED", stored))
        watching_on.set()
        await asyncio.Event().wait()  # later watches stay open, as an idle watch does
        raise AssertionError("unreachable")

    changes: list[float] = []

    def changed() -> None:
        changes.append(source.current.prometheus.interval)

    transport = httpx.MockTransport(api_server)
    http = httpx.AsyncClient(base_url="http://kube.test", transport=transport)
    source = ConfigSource(KubeClient(http), "portico-system", "portico-config", changed)
    before = restarts("config-watch")
    try:
        source.start(await source.load())
        await asyncio.wait_for(watching_on.wait(), 5)
    finally:
        await source.stop()
        await http.aclose()
    assert changes == [10, 20, 40]
    assert restarts("config-watch") - before == 1
    assert requests == ["get", "watch rv=1", "get", "watch rv=2", "watch rv=4"]
    assert source.current == OperatorConfig.model_validate({"prometheus": {"interval": 40}})


async def test_the_alert_poller_survives_an_answer_nothing_expected() -> None:
    """A JSON list where Prometheus sends an object (a misconfigured proxy) is not a
    PorticoError: the poll loop is restarted and the next answer is read."""
    answered = asyncio.Event()
    queries = 0

    async def prometheus(request: httpx.Request) -> httpx.Response:
        nonlocal queries
        queries += 1
        if queries == 1:
            return httpx.Response(200, json=["not", "an", "object"])
        answered.set()
        return httpx.Response(200, json={"status": "success", "data": {"result": []}})

    def client(url: str) -> PrometheusClient:
        return PrometheusClient(url, transport=httpx.MockTransport(prometheus))

    config = OperatorConfig(prometheus=PrometheusConfig(url="http://p:9090", interval=3600))
    poller = AlertPoller(lambda: config, lambda: None, client=client)
    before = restarts("alerts")
    poller.start()
    try:
        await asyncio.wait_for(answered.wait(), 5)
    finally:
        await poller.stop()
    assert restarts("alerts") - before == 1
    assert poller.snapshot() == ((), None)
