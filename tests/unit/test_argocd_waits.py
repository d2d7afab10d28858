"""Waiting on Argo CD explains itself (portico.domain.argocd_waits, the Argo CD step, the
cleanup's announcements). The matrix, on a fixed clock: a Component being deleted whose
Application is still there (WaitingForArgoCD, then ArgoCDNotResponding with the way out
after `argocd.unresponsiveSeconds`, Ready following), an Application no controller ever
reconciled (the argocd signal Unknown after the threshold, not before, not once Argo CD
wrote status), when to look again so that time alone updates the message, and each wait
announced with an Event once."""

from typing import Any

import pytest
from test_engine import engine_with_fake_api, index, make_body
from test_template_deploy import CONFIG, Catalog, FakeAPI, component, ours, template

from portico.domain.argocd import RESOURCES_FINALIZER, app_from_body, app_name
from portico.domain.argocd_waits import (
    MARGIN,
    deletion_wait,
    elapsed,
    finalizer_command,
    unreconciled,
    until_next_step,
)
from portico.domain.status import desired_status
from portico.handlers.cleanup import run_cleanups
from portico.models.config import OperatorConfig
from portico.reconcilers.argocd import ArgoCDStep
from portico.reconcilers.argocd_deletion import ApplicationDeletion, StillDeleting

CREATED = "2026-01-01T00:00:00Z"
DELETED = "2026-01-01T00:01:00Z"  # deletion requested a minute after it was made


def at(seconds: int) -> str:
    """`seconds` after CREATED, as the engine's clock writes it."""
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"2026-01-01T{hours:02d}:{minutes:02d}:{secs:02d}Z"


def application(*, deleted: bool = False, status: dict[str, Any] | None = None) -> Any:
    view = component()
    meta: dict[str, Any] = {"finalizers": [RESOURCES_FINALIZER], "creationTimestamp": CREATED}
    if deleted:
        meta["deletionTimestamp"] = DELETED
    body = ours(view.key, **meta)
    if status:
        body["status"] = status
    return body


# --- elapsed time, shown coarsely and never more than it is --------------------------------
def test_elapsed_time_is_rounded_down_to_its_step() -> None:
    shown = {s: elapsed(s) for s in (0, 59, 60, 119, 120, 299, 300, 3599, 3600, 86399, 172800)}
    assert shown == {
        0: "0s",
        59: "59s",
        60: "1m",
        119: "1m",
        120: "2m",
        299: "2m",
        300: "5m",
        3599: "30m",
        3600: "1h",
        86399: "12h",
        172800: "2d",
    }


def test_the_text_holds_until_the_next_step_and_changes_there() -> None:
    for s in (0, 30, 61, 120, 899, 4000, 50000, 90000):
        wait = until_next_step(s) - MARGIN
        assert wait > 0
        if s >= 60:  # below a minute the seconds are shown once and held until the minute
            assert elapsed(s + wait - 0.5) == elapsed(s)
        assert elapsed(s + wait) != elapsed(s)


# --- an Application no controller ever reconciled ------------------------------------------
def test_a_new_application_gets_the_threshold_before_it_is_called_silent() -> None:
    app = app_from_body(application())
    signal, look_again = unreconciled(app, at(119), 120)
    assert signal is None
    assert look_again == 1 + MARGIN  # woken when the threshold passes, not polled
    signal, look_again = unreconciled(app, at(120), 120)
    assert signal is not None
    assert (signal.status, signal.reason) == ("Unknown", "ArgoCDNotResponding")
    assert signal.message == (
        f"no Argo CD application-controller has reconciled Application {app.ref} in 2m since "
        "it was created: is Argo CD's application-controller running and watching namespace "
        "argocd?"
    )
    assert look_again == 300 - 120 + MARGIN  # the next time the message would change


def test_an_application_argo_cd_wrote_status_to_is_not_silent() -> None:
    for status in (
        {"reconciledAt": CREATED},
        {"sync": {"status": "OutOfSync"}},
        {"health": {"status": "Missing"}},
    ):
        signal, look_again = unreconciled(app_from_body(application(status=status)), at(900), 120)
        assert (signal, look_again) == (None, None), status


def test_the_components_health_and_observed_say_argo_cd_is_not_responding() -> None:
    view = component()
    catalog = Catalog(view, template(), apps=(application(),))
    status = desired_status(
        view, catalog, now=at(130), config=CONFIG, deployed_app=("argocd", app_name(view.key))
    )
    signal = next(s for s in status["health"]["signals"] if s["source"] == "argocd")
    assert signal["status"] == "Unknown"
    assert signal["reason"] == "ArgoCDNotResponding"
    observed = next(c for c in status["conditions"] if c["type"] == "Observed")
    assert (observed["status"], observed["reason"]) == ("False", "ArgoCDNotResponding")
    early = desired_status(
        view, catalog, now=at(60), config=CONFIG, deployed_app=("argocd", app_name(view.key))
    )
    assert early["health"]["status"] == "Progressing"  # waiting for Argo CD to report


async def test_the_step_looks_again_when_the_threshold_passes() -> None:
    view = component()
    app = application()
    api = FakeAPI(app)
    step = ArgoCDStep(api.kube)
    step._installed = True
    out = await step.run(view, Catalog(view, template(), apps=(app,)), CONFIG, at(100))
    assert out is not None
    assert out.condition["reason"] == "ApplicationApplied"
    assert out.retry_after == 20 + MARGIN


def last_conditions(requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    written = [r["body"]["status"] for r in requests if r["url"].endswith("/status")]
    return {c["type"]: c for c in written[-1]["conditions"]}


# --- a Component being deleted --------------------------------------------------------------
def test_a_deletion_waits_then_says_argo_cd_has_not_removed_it_and_the_way_out() -> None:
    app = app_from_body(application(deleted=True))
    wait = deletion_wait(app, "Delete", at(90), 120)
    assert wait.reason == "WaitingForArgoCD"
    assert not wait.warning
    assert wait.message == (
        f"deleting: waiting for Argo CD to prune the resources of Application {app.ref} and "
        "remove it (deletionPolicy Delete)"
    )
    assert wait.look_again == 90 + MARGIN  # deletion was requested 30 s before
    late = deletion_wait(app, "Delete", at(60 + 180), 120)
    assert late.reason == "ArgoCDNotResponding"
    assert late.warning
    assert late.message.startswith(
        f"deleting: Argo CD has not removed Application {app.ref} in 2m since deletion was "
        "requested (deletionPolicy Delete, finalizers: resources-finalizer.argocd.argoproj.io)"
        "; if no application-controller is running, start Argo CD's application-controller, "
        "or let the deployed resources stay by removing Argo CD's finalizer: "
    )
    assert late.message.endswith(finalizer_command(app))
    assert finalizer_command(app) == (
        f"kubectl -n argocd patch application {app.name} --type=json "
        """-p '[{"op":"remove","path":"/metadata/finalizers"}]'"""
    )
    assert "down" not in late.message  # it may be pruning a lot, slowly


async def test_the_step_reports_the_wait_and_ready_follows() -> None:
    engine, patches, entities, edges = engine_with_fake_api()
    engine.argocd._installed = True
    body = make_body(
        "Component",
        "web",
        {
            "type": "service",
            "lifecycle": "production",
            "owner": "group:team",
            "source": {"git": "https://example.com/web.git"},
            "deploy": {"argocd": {}},
        },
    )
    body["metadata"]["deletionTimestamp"] = DELETED
    view = index(entities, edges, body)
    app = ours(view.key, finalizers=[RESOURCES_FINALIZER], deletionTimestamp=DELETED)
    app["metadata"]["creationTimestamp"] = CREATED
    engine.app_watch.apps[("argocd", app_name(view.key))] = app_from_body(app)
    clock = [at(70)]
    engine._clock = lambda: clock[0]
    await engine.reconcile(view.key)
    conditions = last_conditions(patches)
    deployed, ready = conditions["Deployed"], conditions["Ready"]
    assert (deployed["status"], deployed["reason"]) == ("False", "WaitingForArgoCD")
    assert f"argocd/{app_name(view.key)}" in deployed["message"]
    assert (ready["status"], ready["reason"]) == ("False", "WaitingForArgoCD")
    assert engine.graph is not None
    out = await engine.argocd.run(view, engine.graph, OperatorConfig(), at(70))
    assert out is not None
    assert out.retry_after == 110 + MARGIN  # looked at again when the threshold passes
    clock[0] = at(200)
    await engine.reconcile(view.key)
    conditions = last_conditions(patches)
    assert conditions["Deployed"]["reason"] == "ArgoCDNotResponding"
    assert conditions["Ready"]["reason"] == "ArgoCDNotResponding"
    assert "--type=json" in conditions["Deployed"]["message"]


async def test_a_deletion_with_no_application_left_says_nothing() -> None:
    view = component(deleting=True)
    out = await ArgoCDStep(FakeAPI().kube).run(view, Catalog(view, template()), CONFIG, at(200))
    assert out is None


# --- the cleanup's Events, once each --------------------------------------------------------
async def test_each_wait_is_announced_once_and_a_new_deletion_again() -> None:
    view = component(deleting=True)
    app = application(deleted=True)
    api = FakeAPI(app, sticky=True)
    deletion = ApplicationDeletion(api.kube, ArgoCDStep(api.kube))
    config = OperatorConfig.model_validate({"argocd": {"unresponsiveSeconds": 60}})
    for now in (at(61), at(66), at(71), at(121), at(126), at(300)):  # retried every 5 s
        cleanups = [("argocd", lambda now=now: deletion.cleanup(view, Catalog(view), config, now))]
        failures, delay, wait = await run_cleanups(cleanups)
        assert wait is not None
        assert failures == [wait.message]
        assert delay == 5.0
        await deletion.announce(view, wait, now, "portico-0")
    posted = [body for path, body in api.sent("POST") if path.endswith("/events")]
    assert [(e["type"], e["reason"]) for e in posted] == [
        ("Normal", "WaitingForArgoCD"),
        ("Warning", "ArgoCDNotResponding"),
    ]
    assert all(e["regarding"]["uid"] == view.uid for e in posted)
    assert f"Application argocd/{app_name(view.key)}" in posted[0]["note"]
    assert finalizer_command(app_from_body(app)) in posted[1]["note"]
    where = {path for path, _ in api.sent("POST")}
    assert where == {"/apis/events.k8s.io/v1/namespaces/shop/events"}
    deletion.forget(view.uid)  # the Component went (or was deleted and made again)
    assert deletion.first_time(view.uid, "WaitingForArgoCD")


async def test_the_cleanup_raises_still_deleting_with_what_to_say() -> None:
    view = component(deleting=True)
    api = FakeAPI(application(deleted=True), sticky=True)
    deletion = ApplicationDeletion(api.kube, ArgoCDStep(api.kube))
    with pytest.raises(StillDeleting) as raised:
        await deletion.cleanup(view, Catalog(view, template()), CONFIG, at(400))
    assert raised.value.wait.reason == "ArgoCDNotResponding"
    assert str(raised.value) == raised.value.wait.message
    assert not [m for m, _, _ in api.calls if m == "DELETE"]  # already being deleted
