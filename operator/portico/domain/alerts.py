"""Prometheus alerts as a health signal.

One query per interval for the whole catalog: `ALERTS` (Prometheus's own series of pending
and firing alerts). Each Component selects its alerts by labels (`observe.prometheus
.alertLabels`) or by name (Backstage's `prometheus.io/alert` annotation, comma-separated).

Firing alerts make the Component Degraded, except those labelled `severity: info` or
`none`, which are informational and only listed. Pending alerts (their `for:` not yet
elapsed) make it Progressing: something is wrong but not yet for long enough to page. No
alert is Healthy. Prometheus unreachable is Unknown, with the reason.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portico.domain.health import Signal

QUERY = 'ALERTS{alertstate=~"firing|pending"}'
INFORMATIONAL = {"info", "none"}
ALERT_ANNOTATION = "prometheus.io/alert"


@dataclass(frozen=True)
class AlertSelector:
    labels: tuple[tuple[str, str], ...] = ()
    names: tuple[str, ...] = ()

    def matches(self, alert: Mapping[str, str]) -> bool:
        if self.names and alert.get("alertname") not in self.names:
            return False
        return all(alert.get(k) == v for k, v in self.labels)

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in self.labels]
        if self.names:
            parts.append(f"alertname in ({', '.join(self.names)})")
        return ", ".join(parts)


def alert_selector(
    alert_labels: Mapping[str, str] | None, annotations: Mapping[str, str]
) -> AlertSelector | None:
    names = tuple(n.strip() for n in annotations.get(ALERT_ANNOTATION, "").split(",") if n.strip())
    labels = tuple(sorted((alert_labels or {}).items()))
    if not labels and not names:
        return None
    return AlertSelector(labels, names)


def alerts_from_samples(samples: list[dict[str, Any]]) -> tuple[dict[str, str], ...]:
    return tuple(dict(s.get("metric") or {}) for s in samples)


def alert_signal(
    selector: AlertSelector, alerts: tuple[dict[str, str], ...] | None, error: str | None
) -> Signal:
    """`alerts` None means Prometheus could not be read (`error` says why)."""
    if alerts is None:
        return Signal(
            "prometheus",
            "Unknown",
            f"cannot read alerts: {error or 'not yet queried'}",
            reason="PrometheusUnreachable",
        )
    mine = [a for a in alerts if selector.matches(a)]
    firing = sorted(
        {
            a.get("alertname", "?")
            for a in mine
            if a.get("alertstate") == "firing"
            and a.get("severity", "").lower() not in INFORMATIONAL
        }
    )
    info = sorted(
        {
            a.get("alertname", "?")
            for a in mine
            if a.get("alertstate") == "firing" and a.get("severity", "").lower() in INFORMATIONAL
        }
    )
    pending = sorted({a.get("alertname", "?") for a in mine if a.get("alertstate") == "pending"})
    if firing:
        return Signal("prometheus", "Degraded", f"{len(firing)} alerts firing: {', '.join(firing)}")
    if pending:
        return Signal(
            "prometheus", "Progressing", f"{len(pending)} alerts pending: {', '.join(pending)}"
        )
    note = f" ({len(info)} informational firing: {', '.join(info)})" if info else ""
    return Signal("prometheus", "Healthy", f"0 alerts firing{note}")
