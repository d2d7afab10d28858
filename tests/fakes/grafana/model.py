"""The Grafana fake's vocabulary: constants, errors, replies, query helpers and the stored
folders and dashboards (see the package docstring for the behaviour they model)."""

from __future__ import annotations

import json
import re
import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

Json = dict[str, Any]

GRAFANA_VERSION = "11.0.0"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_UID_LENGTH = 40
MAX_TITLE_LENGTH = 5000
MAX_MESSAGE_LENGTH = 500
DEFAULT_LIMIT = 1000
MAX_SEARCH_LIMIT = 5000
GENERAL_FOLDER_UID = "general"

UID_PATTERN = re.compile(r"^[A-Za-z0-9_-]*$")
UID_ALPHABET = string.ascii_lowercase + string.digits
ZERO_TIME = "0001-01-01T00:00:00Z"
DEFAULT_MESSAGES = {
    400: "bad request data",
    401: "Unauthorized",
    403: "Access denied",
    404: "Not found",
    409: "Conflict",
    412: "Precondition failed",
    429: "Too many requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class Call(NamedTuple):
    """One request the fake answered: method, path (without query) and response status."""

    method: str
    path: str
    status: int


class ApiError(Exception):
    """An error the fake answers with: ``{"message"}``, plus ``"status"`` when Grafana sends one."""

    def __init__(self, code: int, message: str, status: str | None = None) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.status = status

    def body(self) -> Json:
        out: Json = {"message": self.message}
        if self.status is not None:
            out["status"] = self.status
        return out


class Response(NamedTuple):
    """A reply: status and JSON body."""

    status: int
    body: Any


def unauthorized() -> Response:
    body = {"message": "Unauthorized", "messageId": "auth.unauthorized", "statusCode": 401}
    return Response(401, body)


def bad_request() -> ApiError:
    return ApiError(400, "bad request data")


def folder_not_found() -> ApiError:
    return ApiError(404, "folder not found", "not-found")


def dashboard_not_found() -> ApiError:
    return ApiError(404, "Dashboard not found", "not-found")


def now_text() -> str:
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def slugify(title: str) -> str:
    """Grafana's slug of a title: lower case, runs of other characters become one ``-``."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug


def check_uid(uid: str) -> None:
    if not UID_PATTERN.match(uid):
        raise ApiError(400, "uid contains illegal characters")
    if len(uid) > MAX_UID_LENGTH:
        raise ApiError(400, "uid too long, max 40 characters")


def new_uid() -> str:
    return "".join(secrets.choice(UID_ALPHABET) for _ in range(14))


def query_list(query: dict[str, list[str]], key: str) -> list[str]:
    """Values of a repeatable query parameter, also split on commas."""
    return [v for raw in query.get(key, []) for v in raw.split(",") if v]


def query_int(query: dict[str, list[str]], key: str, default: int) -> int:
    values = query.get(key)
    if not values or not values[-1]:
        return default
    try:
        return int(values[-1])
    except ValueError as exc:
        raise bad_request() from exc


def page_of(items: list[Json], query: dict[str, list[str]], max_limit: int) -> list[Json]:
    limit = query_int(query, "limit", DEFAULT_LIMIT)
    limit = DEFAULT_LIMIT if limit <= 0 else min(limit, max_limit)
    page = max(query_int(query, "page", 1), 1)
    return items[(page - 1) * limit : page * limit]


# ---------------------------------------------------------------------------------------------
# state


@dataclass
class Folder:
    """A stored folder. ``parent_uid`` is ``""`` at the root."""

    id: int
    uid: str
    title: str
    parent_uid: str
    created: str
    updated: str
    version: int = 1

    @property
    def url(self) -> str:
        return f"/dashboards/f/{self.uid}/{slugify(self.title)}"


@dataclass
class Dashboard:
    """A stored dashboard: the JSON model as posted (plus id, uid, version) and where it lives."""

    id: int
    uid: str
    model: Json
    folder_uid: str  # "" at the root
    created: str
    updated: str
    message: str = ""
    tags: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.model.get("title", ""))

    @property
    def version(self) -> int:
        return int(self.model["version"])

    @property
    def slug(self) -> str:
        return slugify(self.title)

    @property
    def url(self) -> str:
        return f"/d/{self.uid}/{self.slug}"


def parse_body(raw: bytes) -> Json:
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError as exc:
        raise bad_request() from exc
    if not isinstance(body, dict):
        raise bad_request()
    return body
