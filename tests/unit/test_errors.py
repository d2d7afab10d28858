"""One mapping of HTTP statuses onto Portico's errors (portico.errors.from_status), used by
every client: what is retried, what is a refusal, what is a conflict."""

import pytest

from portico.errors import (
    Conflict,
    ExternalError,
    NotFound,
    RejectedError,
    TransientError,
    from_status,
)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, TransientError),
        (500, TransientError),
        (503, TransientError),
        (404, NotFound),
        (409, Conflict),
        (412, RejectedError),
        (401, RejectedError),
        (403, RejectedError),
        (422, RejectedError),
        (302, ExternalError),
    ],
)
def test_each_status_has_one_meaning(status: int, kind: type[ExternalError]) -> None:
    error = from_status("sys", status, "it went wrong")
    assert type(error) is kind
    assert error.status == status
    assert str(error) == f"sys: it went wrong (HTTP {status})"


def test_retry_after_conflicts_and_hints_are_kept() -> None:
    busy = from_status("sys", 429, "slow down", retry_after=12)
    assert isinstance(busy, TransientError)
    assert busy.retry_after == 12
    assert type(from_status("grafana", 412, "x", conflicts=(409, 412))) is Conflict
    denied = from_status("github", 403, "create repo", denied_hint="check the token")
    assert "create repo (check the token)" in str(denied)
    assert from_status("sys", 500, "x", body="b" * 2000).body == "b" * 500
