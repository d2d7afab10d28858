"""Contract test of the fakes themselves (GitHub and Grafana), not of Portico: a fake's own
exception is answered with 500 (the client is not left hanging) and recorded, with the request
line, type, message and traceback, so `assert_no_internal_errors()` fails the test instead of
the 500 passing for an outage that Portico healed; a fault injected with `fail_next` (a 500
too) is never recorded. Covered for a bug inside the fake's request handling and for one in
the shared HTTP plumbing (outside the fake's own guard).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fakes.github import FakeGitHub, GitHubApi
from fakes.grafana import FakeGrafana, GrafanaApi


@dataclass(frozen=True)
class Case:
    fake: type[FakeGitHub] | type[FakeGrafana]
    api: type[Any]  # the class whose dispatch() a planted bug replaces
    path: str  # an authenticated GET that answers 200


CASES = [
    pytest.param(Case(FakeGitHub, GitHubApi, "/user"), id="github"),
    pytest.param(Case(FakeGrafana, GrafanaApi, "/api/search"), id="grafana"),
]


@pytest.fixture(params=CASES)
def case(request: pytest.FixtureRequest) -> Case:
    found: Case = request.param
    return found


@pytest.fixture
def fake(case: Case) -> Iterator[FakeGitHub | FakeGrafana]:
    with case.fake() as server:
        yield server


@pytest.fixture
def client(fake: FakeGitHub | FakeGrafana) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {fake.token}"}
    with httpx.Client(base_url=fake.base_url, headers=headers, timeout=5) as http:
        yield http


def _planted_bug(*_: Any, **__: Any) -> Any:
    raise KeyError("a bug planted in the fake")


def test_injected_faults_are_not_internal_errors(
    case: Case, fake: FakeGitHub | FakeGrafana, client: httpx.Client
) -> None:
    fake.fail_next("GET", case.path, 500)
    fake.fail_next("GET", case.path, 502, apply=True)  # carried out, then the reply is lost
    assert [client.get(case.path).status_code for _ in range(3)] == [500, 502, 200]
    assert fake.internal_errors == []
    fake.assert_no_internal_errors()


def test_an_exception_in_the_fake_is_a_500_and_recorded(
    case: Case,
    fake: FakeGitHub | FakeGrafana,
    client: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(case.api, "dispatch", _planted_bug)
    response = client.get(case.path, params={"q": "1"})
    assert response.status_code == 500
    assert "internal error" in response.json()["message"]

    [error] = fake.internal_errors
    assert error.request == f"GET {case.path}?q=1"
    assert (error.type, error.message) == ("KeyError", "'a bug planted in the fake'")
    assert "_planted_bug" in error.traceback
    with pytest.raises(AssertionError, match="1 internal error") as failed:
        fake.assert_no_internal_errors()
    assert f"GET {case.path}?q=1: KeyError" in str(failed.value)
    assert "_planted_bug" in str(failed.value)  # the traceback says where


def test_an_exception_in_the_shared_plumbing_is_recorded_too(
    case: Case,
    fake: FakeGitHub | FakeGrafana,
    client: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fake, "serve", _planted_bug)
    response = client.post(case.path, content=b"{}")
    assert response.status_code == 500
    assert [(e.request, e.type) for e in fake.internal_errors] == [
        (f"POST {case.path}", "KeyError")
    ]
    with pytest.raises(AssertionError, match=f"POST {case.path}: KeyError"):
        fake.assert_no_internal_errors()
