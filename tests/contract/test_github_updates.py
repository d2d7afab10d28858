"""Portico's GitHub update client against the contract fake (real bare repositories): one pull
request per repository, updated in place for a newer version; nothing written twice; a merged
update's successor diffs against it; a declined one is not reopened; a rate limit holds every
call until its reset."""

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fakes.github import FakeGitHub
from portico.clients.github import GitHubClient
from portico.clients.github_updates import propose_update, read_pull
from portico.clients.publishing import UPDATE_BRANCH, RepoRequest, UpdateRequest
from portico.errors import TransientError

UID = "0b7c-uid"
SCAFFOLD = {"README.md": "# svc\n", "app/main.py": "PORT = 8080\n"}


@pytest.fixture
def client(fake: FakeGitHub) -> Iterator[GitHubClient]:
    made = GitHubClient(fake.token, fake.base_url, throttle=False)
    yield made
    made.close()


def scaffold(client: GitHubClient) -> str:
    published = client._publish(RepoRequest(owner="acme", name="svc", uid=UID), SCAFFOLD)
    return published.commit


def request(base: str, version: str) -> UpdateRequest:
    return UpdateRequest(
        owner="acme",
        name="svc",
        uid=UID,
        base_commit=base,
        default_branch="main",
        version=version,
        title=f"Update to version {version}",
        body=f"Portico-Template-Version: {version}\n",
        message=f"Render version {version}",
        author_date="2026-11-24T10:00:00Z",
    )


def writes(fake: FakeGitHub) -> int:
    return len(fake.write_calls())


def pulls(fake: FakeGitHub) -> list[dict[str, object]]:
    answer = httpx.get(
        f"{fake.base_url}/repos/acme/svc/pulls?state=all",
        headers={"Authorization": f"token {fake.token}"},
    )
    found: list[dict[str, object]] = answer.json()
    return found


def test_one_pull_request_updated_in_place_and_nothing_written_twice(
    fake: FakeGitHub, client: GitHubClient
) -> None:
    base = scaffold(client)
    v1 = {**SCAFFOLD, "README.md": "# svc\n\nGolden.\n"}
    before = writes(fake)
    first = propose_update(client, request(base, "v1"), v1)
    assert writes(fake) - before == 4  # tree, commit, branch, pull request
    assert (first.pull_number, first.pull_state, first.created) == (1, "open", True)
    assert fake.commits("acme", "svc", UPDATE_BRANCH) == [first.commit, base]

    again = propose_update(client, request(base, "v1"), v1)  # a retry after a crash
    assert writes(fake) - before == 4
    assert (again.commit, again.pull_number, again.created) == (first.commit, 1, False)

    v2 = {**v1, ".editorconfig": "root = true\n"}
    second = propose_update(client, request(base, "v2"), v2)
    assert second.pull_number == 1  # the open pull request, retitled
    assert [p["title"] for p in pulls(fake)] == ["Update to version v2"]
    assert fake.commits("acme", "svc", UPDATE_BRANCH) == [second.commit, first.commit, base]
    assert fake.commits("acme", "svc") == [base]  # the default branch is never written


def test_a_merged_update_is_the_next_one_s_merge_base(
    fake: FakeGitHub, client: GitHubClient, tmp_path: Path
) -> None:
    base = scaffold(client)
    v1 = {**SCAFFOLD, "README.md": "# svc\n\nGolden.\n"}
    first = propose_update(client, request(base, "v1"), v1)
    assert first.pull_number is not None
    fake.merge_pull("acme", "svc", first.pull_number)
    state = read_pull(client, "acme", "svc", first.pull_number)
    assert (state.pull_state, state.merged) == ("merged", True)
    # The same render again (a restart): merged, nothing new opened.
    assert propose_update(client, request(base, "v1"), v1).merged

    v2 = {**v1, "app/main.py": "PORT = 9090\n"}
    second = propose_update(client, request(base, "v2"), v2)
    assert second.pull_number == 2
    clone = tmp_path / "svc"
    subprocess.run(
        ["git", "clone", "-q", fake.repo_path("acme", "svc").as_uri(), str(clone)], check=True
    )
    changed = subprocess.run(
        ["git", "diff", "--name-only", f"origin/main...origin/{UPDATE_BRANCH}"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert changed == ["app/main.py"]  # only v2's change: v1 is in main


def test_a_declined_update_is_not_reopened(fake: FakeGitHub, client: GitHubClient) -> None:
    base = scaffold(client)
    v1 = {**SCAFFOLD, "README.md": "# svc\n\nGolden.\n"}
    first = propose_update(client, request(base, "v1"), v1)
    httpx.patch(
        f"{fake.base_url}/repos/acme/svc/pulls/{first.pull_number}",
        headers={"Authorization": f"token {fake.token}"},
        json={"state": "closed"},
    ).raise_for_status()
    before = writes(fake)
    again = propose_update(client, request(base, "v1"), v1)
    assert (again.pull_state, again.merged) == ("closed", False)
    assert writes(fake) == before
    assert len(pulls(fake)) == 1


def test_an_unchanged_render_proposes_nothing(fake: FakeGitHub, client: GitHubClient) -> None:
    base = scaffold(client)
    before = writes(fake)
    proposal = propose_update(client, request(base, "v1"), dict(SCAFFOLD))
    assert proposal.commit is None
    assert writes(fake) == before
    assert fake.commits("acme", "svc", UPDATE_BRANCH) == []


def test_a_rate_limit_holds_every_call_until_its_reset(
    fake: FakeGitHub, client: GitHubClient
) -> None:
    base = scaffold(client)
    fake.rate_limit(0, time.time() + 120)
    with pytest.raises(TransientError) as first:
        propose_update(client, request(base, "v1"), {"README.md": "x"})
    assert first.value.retry_after is not None
    assert first.value.retry_after > 60
    calls = len(fake.calls)
    with pytest.raises(TransientError):  # refused here, without asking GitHub again
        propose_update(client, request(base, "v1"), {"README.md": "x"})
    assert len(fake.calls) == calls
