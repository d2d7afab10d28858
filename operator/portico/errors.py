"""Portico's exception tree, in one place.

    PorticoError
    ├── ConfigError            the operator's own configuration is wrong (fatal at start)
    ├── CleanupPending         a deleted entity's external cleanup cannot run yet (retried)
    └── ExternalError          a call to another system failed; keeps status and body
        ├── TransientError     worth retrying: 5xx, 429, timeouts, connection errors
        └── RejectedError      the other side said no (4xx); retrying the same call won't help
            ├── NotFound       404
            └── Conflict       409 (or 412): someone else changed or owns the thing

`from_status` is the one mapping of an HTTP status onto this tree, for every client.

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


def from_status(
    system: str,
    status: int,
    message: str,
    *,
    body: str = "",
    retry_after: float | None = None,
    conflicts: tuple[int, ...] = (409,),
    denied_hint: str = "",
) -> ExternalError:
    """The error for an HTTP answer that is not a success, the same way for every system.

    429 and 5xx are worth retrying (with the server's Retry-After, if it gave one); 404 is
    NotFound; the `conflicts` statuses (409, and 412 where a system uses it) are Conflict;
    401/403 are refusals of our credentials (`denied_hint` says what to check); any other 4xx
    is a RejectedError: the same call will not succeed.
    """
    if status == 429 or status >= 500:
        return TransientError(system, message, status=status, body=body, retry_after=retry_after)
    if status == 404:
        return NotFound(system, message, status=status, body=body)
    if status in conflicts:
        return Conflict(system, message, status=status, body=body)
    if status in (401, 403):
        hint = f" ({denied_hint})" if denied_hint else ""
        return RejectedError(system, f"{message}{hint}", status=status, body=body)
    if 400 <= status < 500:
        return RejectedError(system, message, status=status, body=body)
    return ExternalError(system, message, status=status, body=body)
