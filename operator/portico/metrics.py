"""Portico's own Prometheus metrics (prometheus-client), served on PORTICO_METRICS_PORT."""

from prometheus_client import Counter, Histogram, start_http_server

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
HEALTH_TRANSITIONS = Counter(
    "portico_health_transitions_total", "Health changes, by kind and new health.", ["kind", "to"]
)


def serve(port: int) -> None:
    """Serve /metrics on all interfaces (a daemon thread of prometheus-client)."""
    start_http_server(port)
