"""Watch Deployments, StatefulSets and DaemonSets: index their health by namespace and wake
the Components that select them. Watched, not polled: a rollout's status change reaches the
Component within about a second."""

from typing import Any

import kopf

from portico.domain.workloads import WorkloadView, workload_from_body

WORKLOAD_PLURALS = ("deployments", "statefulsets", "daemonsets")


async def workloads(body: kopf.Body, **_: Any) -> dict[str, WorkloadView]:
    view = workload_from_body(body)
    return {view.namespace: view}


async def on_workload(*, type: str, body: kopf.Body, memo: Any, **kwargs: Any) -> None:
    memo.engine.bind(kwargs)
    memo.engine.observe_workload(workload_from_body(body), deleted=type == "DELETED")


for _plural in WORKLOAD_PLURALS:
    kopf.index("apps", "v1", _plural, id="workloads")(workloads)
    kopf.on.event("apps", "v1", _plural, id=f"{_plural}-events")(on_workload)
