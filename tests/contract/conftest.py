"""The GitHub fake, and an HTTP client on it with one repository (acme/svc): shared by the
pull-request contract tests. A test module may define its own `fake` or `client`."""

from collections.abc import Iterator

import httpx
import pytest

from fakes.github import FakeGitHub


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(orgs=["acme"], user="portico-bot") as server:
        yield server
    server.assert_no_internal_errors()


@pytest.fixture
def client(fake: FakeGitHub) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {fake.token}"}
    with httpx.Client(base_url=fake.base_url, headers=headers, timeout=10) as http:
        http.post("/orgs/acme/repos", json={"name": "svc", "auto_init": True}).raise_for_status()
        yield http
