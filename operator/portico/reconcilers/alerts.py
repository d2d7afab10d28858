"""Prometheus alerts, polled: one `ALERTS` query per (jittered) interval for the whole
catalog, and the Components whose alerts changed re-queued. The answer is kept in memory;
the status computation reads it (portico.domain.alerts decides the signal).

The loop runs under `supervise`: an unexpected exception (a bug, an answer nothing expected)
is logged, counted and the loop restarted after a back-off, instead of ending alert polling."""

import logging
from collections.abc import Callable

from portico.clients.prometheus import PrometheusClient
from portico.domain.alerts import QUERY, alerts_from_samples
from portico.errors import PorticoError
from portico.metrics import EXTERNAL_CALLS
from portico.models.config import OperatorConfig
from portico.reconcilers.poll_loop import PollLoop

log = logging.getLogger("portico.alerts")

Alerts = tuple[dict[str, str], ...]


class AlertPoller(PollLoop):
    name = "alerts"

    def __init__(
        self,
        config: Callable[[], OperatorConfig],
        on_change: Callable[[], None],
        *,
        client: Callable[[str], PrometheusClient] = PrometheusClient,
    ) -> None:
        super().__init__()
        self._config = config
        self._on_change = on_change
        self._new_client = client  # the URL -> a client; tests pass one on a fake transport
        self._client: PrometheusClient | None = None
        self.alerts: Alerts | None = None
        self.error: str | None = "not queried yet"

    def interval(self) -> float:
        return self._config().prometheus.interval

    def snapshot(self) -> tuple[Alerts | None, str | None]:
        url = self._config().prometheus.url
        if url is None:
            return None, "no Prometheus configured (prometheus.url in portico-config)"
        return self.alerts, self.error

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def poll_once(self) -> None:
        config = self._config().prometheus
        if config.url is None:
            return
        if self._client is None or self._client.url != config.url.rstrip("/"):
            if self._client is not None:
                await self._client.aclose()
            self._client = self._new_client(config.url)
        before = (self.alerts, self.error)
        try:
            alerts: Alerts | None = alerts_from_samples(await self._client.query(QUERY))
            error = None
            EXTERNAL_CALLS.labels("prometheus", "success").inc()
        except PorticoError as e:
            alerts, error = None, str(e)
            EXTERNAL_CALLS.labels("prometheus", "error").inc()
        self.alerts = tuple(sorted(alerts, key=lambda a: sorted(a.items()))) if alerts else alerts
        self.error = error
        if (self.alerts, self.error) != before:
            if error and before[1] is None:
                log.warning("alerts: %s", error)
            self._on_change()
