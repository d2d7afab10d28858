"""Portico's exception tree, in one place.

    PorticoError
    ├── ConfigError            the operator's own configuration is wrong (fatal at start)
    ├── CleanupPending         a deleted entity's external cleanup cannot run yet (retried)
    └── ExternalError          a call to another system failed; keeps status and body
        ├── TransientError     worth retrying: 5xx, 429, timeouts, connection errors
        └── RejectedError      the other side said no (4xx); retrying the same call won't help
            ├── NotFound       404
            └── Conflict       409 (or 412): someone else changed or owns the thing

Client modules raise these (`raise ... from e`, with bodies truncated); reconcilers decide
what each means for a condition; the handlers layer is the one place that maps them onto
kopf's TemporaryError / PermanentError.
"""

BODY_LIMIT = 500


class PorticoError(Exception):
    """Anything Portico raises on purpose."""


class ConfigError(PorticoError):
    """The operator's configuration is invalid."""


class CleanupPending(PorticoError):
    """Cleanup that was promised (archive, dashboard removal) cannot run yet, e.g. its token
    is missing: the finalizer stays and the cleanup is retried."""


class ExternalError(PorticoError):
    """A call to an external system failed."""

    def __init__(
        self, system: str, message: str, *, status: int | None = None, body: str = ""
    ) -> None:
        self.system = system
        self.status = status
        self.body = body[:BODY_LIMIT]
        code = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{system}: {message}{code}")


class TransientError(ExternalError):
    """Worth retrying later."""

    def __init__(
        self,
        system: str,
        message: str,
        *,
        status: int | None = None,
        body: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(system, message, status=status, body=body)
        self.retry_after = retry_after


class RejectedError(ExternalError):
    """The request itself was refused."""


class NotFound(RejectedError):
    """The thing asked for does not exist (or is invisible to our credentials)."""


class Conflict(RejectedError):
    """The thing exists in a state we may not overwrite."""
