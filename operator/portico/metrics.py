"""Portico's own Prometheus metrics (prometheus-client), served on PORTICO_METRICS_PORT.

The counters and histograms are module-level, prometheus-client's idiom: a process has one
registry, and a metric is process-wide the way a logger is. What depends on one running
operator (the catalog collector, which reads the engine's graph) is registered at startup
into kopf's memo and unregistered at cleanup, so no stale operator's graph is ever read.
"""

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector

RECONCILES = Counter(
    "portico_reconciles_total", "Reconciles by kind and result.", ["kind", "result"]
)
RECONCILE_SECONDS = Histogram(
    "portico_reconcile_duration_seconds",
    "Time to decide and write one entity's status.",
    ["kind"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
STATUS_WRITES = Counter("portico_status_writes_total", "Status patches sent, by kind.", ["kind"])
SCORECARD_CHECKS = Gauge(
    "portico_scorecard_checks",
    "Entities by scorecard check and result (Pass or Fail), in the shards this process owns.",
    ["check", "result"],
)
SCORECARD_LEVELS = Counter(
    "portico_scorecard_level_changes_total",
    "Scorecard level changes, by kind and new level.",
    ["kind", "to"],
)
HEALTH_TRANSITIONS = Counter(
    "portico_health_transitions_total", "Health changes, by kind and new health.", ["kind", "to"]
)


# A read-only route beside /metrics: path -> a function giving (status, content type, body),
# called in the server's thread (e.g. /backstage/catalog-info.yaml).
Route = Callable[[], tuple[int, str, bytes]]
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No line per request on stderr (prometheus-client's server is silent too)."""


def serve(port: int, routes: Mapping[str, Route] | None = None) -> None:
    """Serve /metrics, and `routes`, on all interfaces from a daemon thread."""
    metrics = make_wsgi_app(REGISTRY)
    extra = dict(routes or {})

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        route = extra.get(environ.get("PATH_INFO", ""))
        if route is None:
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            code, kind, body = 405, "text/plain", b"read-only\n"
        else:
            code, kind, body = route()
        headers = [("Content-Type", kind), ("Content-Length", str(len(body)))]
        if code == 503:
            headers.append(("Retry-After", "10"))
        start_response(f"{code} {_REASONS.get(code, '')}", headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]

    server = make_server("", port, app, ThreadingWSGIServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True, name="portico-http").start()


EXTERNAL_CALLS = Counter(
    "portico_external_calls_total",
    "Calls to other systems, by system and outcome.",
    ["system", "outcome"],
)
SCAFFOLDS = Counter("portico_scaffolds_total", "Scaffolds by result.", ["result"])
TEMPLATE_UPDATES = Counter(
    "portico_template_updates_total",
    "Template updates by result: proposed, unchanged, merged, declined, failed, retrying.",
    ["result"],
)
RATE_LIMIT_WAITS = Counter(
    "portico_rate_limit_waits_total", "Times a rate limit made Portico wait, by system.", ["system"]
)
BACKGROUND_RESTARTS = Counter(
    "portico_background_restarts_total",
    "Background tasks (config watch, alert poller) restarted after a crash, by task.",
    ["task"],
)


class CatalogCollector(Collector):
    """portico_entities{kind, health}: counted from the in-memory graph at scrape time."""

    def __init__(self, graph: Callable[[], Any]) -> None:
        self._graph = graph

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "portico_entities", "Catalog entities by kind and health.", labels=["kind", "health"]
        )
        graph = self._graph()
        counts: dict[tuple[str, str], int] = {}
        if graph is not None:
            for kind in ("component", "api", "system", "template"):
                for key in graph.keys(kind):
                    view = graph.get(key)
                    health = (view.health if view is not None else None) or "None"
                    counts[(kind, health)] = counts.get((kind, health), 0) + 1
        for (kind, health), n in sorted(counts.items()):
            family.add_metric([kind, health], n)
        yield family


def register_catalog_collector(graph: Callable[[], Any]) -> CatalogCollector:
    """Count this operator's catalog at scrape time; keep the result to unregister it."""
    collector = CatalogCollector(graph)
    REGISTRY.register(collector)
    return collector


def unregister(collector: Collector) -> None:
    REGISTRY.unregister(collector)
