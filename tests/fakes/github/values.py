"""Values in and out of the API: timestamps, Base64 content, and the checks on request fields
that several endpoints share."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Any

from fakes.github.errors import Json, invalid, missing, unprocessable


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(when: datetime) -> str:
    if when.utcoffset() == timedelta(0):
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return when.isoformat()


def b64(data: bytes) -> str:
    """Base64 in lines of 60 characters, as GitHub returns blob and file content."""
    text = base64.b64encode(data).decode("ascii")
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


def decode_content(content: str, encoding: str, resource: str) -> bytes:
    if encoding in ("utf-8", "utf8"):
        return content.encode("utf-8")
    if encoding != "base64":
        raise invalid(resource, "encoding", f"encoding {encoding!r} is not utf-8 or base64")
    try:
        return base64.b64decode("".join(content.split()), validate=True)
    except binascii.Error as exc:
        raise invalid(resource, "content", "content is not valid Base64") from exc


def check_path(path: Any, resource: str = "Tree") -> str:
    if not isinstance(path, str) or not path:
        raise missing(resource, "path")
    parts = path.split("/")
    if "\0" in path or any(part in ("", ".", "..", ".git") for part in parts):
        raise unprocessable("tree.path contains a malformed path component", resource, "path")
    return path


def optional_str(body: Json, key: str, resource: str, default: str | None = None) -> str | None:
    value = body.get(key, default)
    if value is not None and not isinstance(value, str):
        raise invalid(resource, key)
    return value
