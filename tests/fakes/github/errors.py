"""The fake's errors: :class:`ApiError`, answered to the client in GitHub's error-body shape
(``{"message", "documentation_url", "status"}``, 422 adds ``errors``), with constructors for
the shapes GitHub uses, and :class:`GitError`, a git command that failed (a bug in the fake,
answered with 500 and recorded as an internal error)."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

DOCS_URL = "https://docs.github.com/rest"
RATE_LIMIT_DOCS_URL = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"


class ApiError(Exception):
    """An error the fake answers with, in GitHub's error-body shape."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: list[Json] | None = None,
        documentation_url: str = DOCS_URL,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url

    def body(self) -> Json:
        out: Json = {
            "message": self.message,
            "documentation_url": self.documentation_url,
            "status": str(self.status),
        }
        if self.errors is not None:
            out["errors"] = self.errors
        return out


def not_found(message: str = "Not Found") -> ApiError:
    return ApiError(404, message)


def invalid(resource: str, field_name: str, message: str | None = None) -> ApiError:
    error: Json = {"resource": resource, "code": "invalid", "field": field_name}
    if message:
        error["message"] = message
    return ApiError(422, "Validation Failed", [error])


def missing(resource: str, field_name: str) -> ApiError:
    error = {"resource": resource, "code": "missing_field", "field": field_name}
    return ApiError(422, f'Invalid request.\n\n"{field_name}" wasn\'t supplied.', [error])


def unprocessable(message: str, resource: str, field_name: str) -> ApiError:
    error = {"resource": resource, "code": "custom", "field": field_name, "message": message}
    return ApiError(422, message, [error])


def read_only() -> ApiError:
    return ApiError(403, "Repository was archived so is read-only.")


class GitError(RuntimeError):
    """A git command failed."""
