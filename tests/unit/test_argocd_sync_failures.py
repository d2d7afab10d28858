"""A failed sync is said at once (portico.domain.argocd): while Argo CD retries a failed
automated sync its phase is Running, and the Component must still say the sync failed and
why, with the resources Argo CD refused (an AppProject's refusal is only there). Shapes
follow Argo CD v3.5's controller (appcontroller.go processRequestedAppOperation)."""

from typing import Any

from portico.domain.argocd import app_from_body, argocd_signal, argocd_status

REJECTED = (
    "error validating data: cannot unmarshal string into Go struct field "
    "DeploymentSpec.spec.replicas of type int32"
)
TASKS = "one or more synchronization tasks completed unsuccessfully"


def application(operation: dict[str, Any] | None, health: str = "Healthy") -> dict[str, Any]:
    status: dict[str, Any] = {
        "health": {"status": health},
        "sync": {"status": "OutOfSync", "revision": "abc123"},
        "reconciledAt": "2026-01-01T00:00:00Z",
    }
    if operation is not None:
        status["operationState"] = operation
    return {"metadata": {"name": "shop-api-1a2b3c4d", "namespace": "argocd"}, "status": status}


def refused(kind: str, name: str, namespace: str = "") -> dict[str, Any]:
    return {
        "kind": kind,
        "name": name,
        "namespace": namespace,
        "status": "SyncFailed",
        "message": f"resource :{kind} is not permitted in project portico-shop",
    }


def test_a_sync_failing_while_argocd_retries_is_degraded_with_why() -> None:
    app = app_from_body(
        application(
            {
                "phase": "Running",
                "retryCount": 1,
                "finishedAt": "2026-01-01T00:00:05Z",
                "message": f"{REJECTED}. Retrying attempt #1 at 10:00AM.",
            }
        )
    )
    signal = argocd_signal(app, "argocd/shop-api-1a2b3c4d")
    assert signal.status == "Degraded"
    assert "sync failed, Argo CD retries (attempt #1)" in signal.message
    assert REJECTED in signal.message
    status = argocd_status(app, "argocd/shop-api-1a2b3c4d")
    assert status["operationPhase"] == "Running"
    assert status["message"] == f"{REJECTED}. Retrying attempt #1 at 10:00AM."


def test_an_appproject_refusal_names_each_refused_resource() -> None:
    resources = [
        refused("ClusterRoleBinding", "grab-admin"),
        refused("ConfigMap", "planted", "kube-system"),
        {"kind": "Deployment", "name": "api", "namespace": "shop", "status": "Synced"},
    ]
    app = app_from_body(
        application(
            {
                "phase": "Running",
                "retryCount": 2,
                "message": f"{TASKS}. Retrying attempt #2 at 10:01AM.",
                "syncResult": {"resources": resources, "revision": "abc123"},
            },
        )
    )
    message = argocd_status(app, "")["message"]
    assert message.startswith(TASKS)
    assert "ClusterRoleBinding grab-admin: resource :ClusterRoleBinding is not permitted" in message
    assert "ConfigMap kube-system/planted: resource :ConfigMap is not permitted" in message
    assert "Deployment" not in message  # applied: nothing to say
    assert argocd_signal(app, "").status == "Degraded"


def test_many_refused_resources_are_counted_not_all_listed() -> None:
    resources = [refused("ConfigMap", f"cm-{i}", "shop") for i in range(7)]
    operation = {"phase": "Failed", "message": TASKS, "syncResult": {"resources": resources}}
    message = argocd_status(app_from_body(application(operation)), "")["message"]
    assert message.count("is not permitted") == 3
    assert message.endswith("4 more")
    assert len(message) < 1024


def test_the_last_retry_failing_is_a_failed_sync() -> None:
    operation = {"phase": "Failed", "retryCount": 5, "message": f"{REJECTED} (retried 5 times)."}
    signal = argocd_signal(app_from_body(application(operation)), "")
    assert signal.status == "Degraded"
    assert signal.message.startswith("Application argocd/shop-api-1a2b3c4d sync failed: ")


def test_a_sync_in_progress_or_a_retry_that_worked_is_not_a_failure() -> None:
    for operation in (
        {"phase": "Running", "message": "waiting for healthy state of apps/Deployment/api"},
        {"phase": "Succeeded", "retryCount": 2, "message": "successfully synced (all tasks run)"},
        None,
    ):
        app = app_from_body(application(operation, health="Progressing"))
        assert argocd_signal(app, "").status == "Progressing", operation
        assert "message" not in argocd_status(app, ""), operation
