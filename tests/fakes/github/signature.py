"""A commit's author or committer: as git writes it (``commit-tree``'s environment), as git
prints it (``cat-file commit``), and as the API takes and returns it (JSON)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fakes.github.errors import GitError, Json, invalid, missing
from fakes.github.values import iso


@dataclass(frozen=True)
class Signature:
    """A commit's author or committer."""

    name: str
    email: str
    when: datetime  # timezone-aware

    def to_git(self) -> str:
        offset = self.when.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        hours, mins = divmod(abs(minutes), 60)
        return f"@{int(self.when.timestamp())} {sign}{hours:02d}{mins:02d}"

    def to_json(self) -> Json:
        return {"name": self.name, "email": self.email, "date": iso(self.when)}

    @classmethod
    def from_git(cls, text: str) -> Signature:
        match = re.fullmatch(r"(.*) <(.*)> (\d+) ([+-])(\d\d)(\d\d)", text)
        if match is None:
            raise GitError(f"unparsable signature {text!r}")
        name, email, epoch, sign, hours, mins = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(mins))
        tz = timezone(-delta if sign == "-" else delta)
        return cls(name, email, datetime.fromtimestamp(int(epoch), tz))


def parse_signature(value: Any, field_name: str, default: Signature) -> Signature:
    if value is None:
        return default
    if not isinstance(value, dict):
        raise invalid("Commit", field_name)
    name, email = value.get("name"), value.get("email")
    if not isinstance(name, str) or not name.strip():
        raise missing("Commit", f"{field_name}.name")
    if not isinstance(email, str) or not email.strip():
        raise missing("Commit", f"{field_name}.email")
    when = default.when
    if value.get("date") is not None:
        try:
            when = datetime.fromisoformat(str(value["date"]))
        except ValueError as exc:
            raise invalid("Commit", f"{field_name}.date", "date is not ISO 8601") from exc
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return Signature(name, email, when)
