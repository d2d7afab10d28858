"""A rotated token replaces the step's client and closes the old one: no client per token
kept open for ever (GitHub for scaffolding, Grafana for dashboards)."""

from typing import Any

import pytest

from portico.clients.sandbox import Renderers
from portico.models.config import OperatorConfig
from portico.reconcilers import dashboards, github_access


class Recorder:
    made: list["Recorder"] = []

    def __init__(self, *args: Any, **_: Any) -> None:
        self.args, self.closed = args, False
        Recorder.made.append(self)

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def test_a_new_github_token_closes_the_old_client(monkeypatch: pytest.MonkeyPatch) -> None:
    Recorder.made = []
    monkeypatch.setattr(github_access, "GitHubClient", Recorder)
    access = github_access.GitHubAccess(None, "ns")  # type: ignore[arg-type]
    config = OperatorConfig()
    first = access.client("token-1", config)
    assert access.client("token-1", config) is first
    second = access.client("token-2", config)
    assert second is not first
    assert [r.closed for r in Recorder.made] == [True, False]


async def test_a_new_grafana_token_closes_the_old_client(monkeypatch: pytest.MonkeyPatch) -> None:
    Recorder.made = []
    tokens = iter(["token-1", "token-1", "token-2"])

    async def read_token(*_: Any) -> str:
        return next(tokens)

    monkeypatch.setattr(dashboards, "GrafanaClient", Recorder)
    monkeypatch.setattr(dashboards, "read_token", read_token)
    step = dashboards.DashboardStep(None, "ns", Renderers())  # type: ignore[arg-type]
    config = OperatorConfig.model_validate({"grafana": {"url": "https://grafana.example"}})
    first = await step._client(config)
    assert await step._client(config) is first
    assert await step._client(config) is not first
    assert [r.closed for r in Recorder.made] == [True, False]
