"""A rejected configuration is said where a cluster admin looks (an Event on the ConfigMap,
naming the check or field), once per distinct error, and the last good one stays in force."""

import json
from typing import Any

import httpx
import yaml

from portico.clients.kube import KubeClient
from portico.reconcilers.config_source import ConfigSource

GOOD = {"scorecards": {"levels": ["basic"], "checks": [
    {"name": "owned", "level": "basic", "expression": "has(self.spec.owner)"}]}}  # fmt: skip
BAD = {"scorecards": {"levels": ["basic"], "checks": [
    {"name": "typo", "level": "basic", "expression": "self.spec.owner =="}]}}  # fmt: skip


def configmap(config: dict[str, Any], rv: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "portico-config", "namespace": "portico-system", "uid": "cm-uid",
                     "resourceVersion": rv},
        "data": {"config.yaml": yaml.safe_dump(config)},
    }  # fmt: skip


async def test_bad_cel_is_an_event_naming_the_check_and_the_last_good_config_stays() -> None:
    stored = configmap(GOOD, "1")
    events: list[dict[str, Any]] = []

    def api_server(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            events.append(json.loads(request.content))
            return httpx.Response(201, json={})
        return httpx.Response(200, json=stored)

    http = httpx.AsyncClient(base_url="http://kube.test", transport=httpx.MockTransport(api_server))
    source = ConfigSource(KubeClient(http), "portico-system", "portico-config", lambda: None)
    try:
        await source.load()
        assert source.current.scorecards.levels == ("basic",)
        assert events == []  # a good configuration is not news

        stored = configmap(BAD, "2")
        await source.load()
        await source.load()  # the same error again: no second Event
        assert source.current.scorecards.levels == ("basic",)  # the last good one
        (rejected,) = events
        assert rejected["reason"] == "ConfigurationRejected"
        assert rejected["type"] == "Warning"
        assert rejected["regarding"] == {
            "apiVersion": "v1", "kind": "ConfigMap", "name": "portico-config",
            "namespace": "portico-system", "uid": "cm-uid",
        }  # fmt: skip
        assert "check typo: expression:" in rejected["note"]
        assert rejected["note"].endswith("the last good configuration stays in force")
        assert source.error is not None

        stored = configmap({"scorecards": {"enabled": False}}, "3")
        await source.load()
        assert events[-1]["reason"] == "ConfigurationLoaded"
        assert source.current.scorecards.enabled is False
        assert source.error is None
    finally:
        await http.aclose()


async def test_a_bad_configuration_at_start_says_the_defaults_are_in_force() -> None:
    events: list[dict[str, Any]] = []

    def api_server(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            events.append(json.loads(request.content))
            return httpx.Response(201, json={})
        return httpx.Response(200, json=configmap(BAD, "1"))

    http = httpx.AsyncClient(base_url="http://kube.test", transport=httpx.MockTransport(api_server))
    source = ConfigSource(KubeClient(http), "portico-system", "portico-config", lambda: None)
    try:
        await source.load()
    finally:
        await http.aclose()
    (rejected,) = events
    assert rejected["note"].endswith("Portico's defaults stay in force")
