"""The Prometheus alert signal: firing (by severity), pending, none, unreachable; selection
by labels and by Backstage's prometheus.io/alert names."""

import pytest

from portico.domain.alerts import alert_selector, alert_signal

CHECKOUT = alert_selector({"service": "checkout"}, {})


def alert(
    name: str, state: str = "firing", severity: str = "critical", **labels: str
) -> dict[str, str]:
    return {
        "alertname": name,
        "alertstate": state,
        "severity": severity,
        "service": "checkout",
        **labels,
    }


@pytest.mark.parametrize(
    ("alerts", "status", "says"),
    [
        ((), "Healthy", "0 alerts firing"),
        ((alert("HighErrors"),), "Degraded", "1 alerts firing: HighErrors"),
        (
            (alert("Slow", severity="warning"), alert("HighErrors")),
            "Degraded",
            "2 alerts firing: HighErrors, Slow",
        ),
        ((alert("HighErrors", state="pending"),), "Progressing", "1 alerts pending: HighErrors"),
        ((alert("Deploying", severity="info"),), "Healthy", "informational firing: Deploying"),
        ((alert("HighErrors", service="ledger"),), "Healthy", "0 alerts firing"),
    ],
)
def test_alert_signal(alerts: tuple[dict[str, str], ...], status: str, says: str) -> None:
    assert CHECKOUT is not None
    signal = alert_signal(CHECKOUT, alerts, None)
    assert signal.status == status
    assert says in signal.message


def test_unreachable_prometheus_is_unknown_with_the_reason() -> None:
    assert CHECKOUT is not None
    signal = alert_signal(CHECKOUT, None, "prometheus: http://p:9090 is unreachable (ConnectError)")
    assert signal.status == "Unknown"
    assert signal.reason == "PrometheusUnreachable"
    assert "unreachable" in signal.message


def test_selection_by_backstage_annotation_names() -> None:
    selector = alert_selector(None, {"prometheus.io/alert": "HighErrors, Slow"})
    assert selector is not None
    assert selector.matches({"alertname": "Slow", "service": "x"})
    assert not selector.matches({"alertname": "Other"})
    assert alert_selector(None, {}) is None


async def test_a_configuration_change_wakes_the_poller_at_once() -> None:
    """Prometheus configured while the poller sleeps its long default interval: it must
    query right away, not after the interval."""
    import asyncio

    from portico.models.config import OperatorConfig, PrometheusConfig
    from portico.reconcilers.alerts import AlertPoller

    config = OperatorConfig(prometheus=PrometheusConfig(interval=3600))
    polls: list[str | None] = []
    polled = asyncio.Event()
    poller = AlertPoller(lambda: config, lambda: None)

    async def fake_poll() -> None:
        polls.append(config.prometheus.url)
        polled.set()

    poller.poll_once = fake_poll  # type: ignore[method-assign]
    poller.start()
    try:
        await asyncio.wait_for(polled.wait(), 2)
        polled.clear()
        config = OperatorConfig(prometheus=PrometheusConfig(url="http://p:9090", interval=3600))
        poller.wake()
        await asyncio.wait_for(polled.wait(), 2)  # not 3600 s
        assert polls == [None, "http://p:9090"]
    finally:
        await poller.stop()


async def test_a_wake_during_a_slow_query_is_not_lost() -> None:
    """The configuration changes while a query is in flight: once the query answers, the
    poller must query again at once, not sleep its interval (the wake used to be cleared
    after the query, and lost)."""
    import asyncio

    import httpx

    from portico.clients.prometheus import PrometheusClient
    from portico.models.config import OperatorConfig, PrometheusConfig
    from portico.reconcilers.alerts import AlertPoller

    config = OperatorConfig(prometheus=PrometheusConfig(url="http://p:9090", interval=3600))
    queries: list[str] = []
    in_flight, answer, second = asyncio.Event(), asyncio.Event(), asyncio.Event()
    firing = {"alertname": "HighErrors", "alertstate": "firing", "service": "checkout"}

    async def prometheus(request: httpx.Request) -> httpx.Response:
        queries.append(request.url.params["query"])
        if len(queries) == 1:
            in_flight.set()
            await answer.wait()  # a slow Prometheus
        else:
            second.set()
        result = [{"metric": firing, "value": [0, "1"]}]
        return httpx.Response(200, json={"status": "success", "data": {"result": result}})

    def client(url: str) -> PrometheusClient:
        return PrometheusClient(url, transport=httpx.MockTransport(prometheus))

    poller = AlertPoller(lambda: config, lambda: None, client=client)
    poller.start()
    try:
        await asyncio.wait_for(in_flight.wait(), 2)
        poller.wake()  # e.g. a new interval or URL, while the query runs
        answer.set()
        await asyncio.wait_for(second.wait(), 2)  # not 3600 s
        assert len(queries) == 2
        assert poller.snapshot() == ((firing,), None)
    finally:
        await poller.stop()
