"""The one error tree of geckolake.

Callers only ever meet these; third-party errors are translated at the boundary with
``raise ... from e``.

    GeckolakeError
    ├── TransientError            one failed attempt worth retrying; the client raises these per attempt
    │   │                         and retries them itself (policy: ``api/retry.py``)
    │   ├── RateLimited           HTTP 429; carries retry_after seconds
    │   ├── ServerError           HTTP 5xx (the CDN's 52x too) and 408; carries status
    │   └── NetworkError          no answer: timeouts, refused connections, bodies cut short;
    │                             ``connect`` = no connection was made (DNS, refused, TLS,
    │                             connect timeout), what the client's circuit breaker counts
    └── TerminalError             retrying will not help; say what to do instead
        ├── ConfigError           a setting is missing or invalid
        ├── SecretError           an API key could not be read from its provider
        ├── ApiError              a 4xx answer from CoinGecko
        │   ├── AuthError         401/403, error codes 10002 / 10005 (wrong key, paid-only endpoint)
        │   └── NotFound          unknown coin or path
        ├── ApiUnreachable        connection after connection failed: the network or the base URL is
        │                         wrong; ends the whole fetch (the circuit breaker tripped)
        ├── FetchFailed           a request still failing after every retry; ``__cause__`` and
        │                         ``last_error`` are its last TransientError
        ├── ParseError            a body that is not what the endpoint promises
        ├── LakeError             the lake folder or catalog cannot be used
        │   ├── LakeLocked        another run is writing this lake
        │   └── DiskFull          the lake's disk (or quota) ran out mid-write
        └── QueryError            invalid SQL given to ``geckolake sql``

Every message says what happened and what to do; none contains a secret.
"""

from __future__ import annotations

import errno


class GeckolakeError(Exception):
    """Root of every error geckolake raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} — {self.hint}" if self.hint else base


class TransientError(GeckolakeError):
    """One failed attempt that may pass if the same request is tried again later.

    The client raises these internally, one per failed attempt; callers of ``fetch`` only meet
    them as the ``__cause__`` of :class:`FetchFailed` (or :class:`ApiUnreachable`).
    """

    def __init__(self, message: str, *, endpoint: str = "", hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.endpoint = endpoint


class RateLimited(TransientError):
    """HTTP 429 from CoinGecko (or its CDN); ``retry_after`` is the wait the client took, in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, endpoint: str = "", hint: str = "") -> None:
        super().__init__(message, endpoint=endpoint, hint=hint)
        self.retry_after = retry_after


class ServerError(TransientError):
    """HTTP 5xx (and 408, the CDN's 52x): the server failed to answer this time."""

    def __init__(self, message: str, *, status: int, endpoint: str = "", hint: str = "") -> None:
        super().__init__(message, endpoint=endpoint, hint=hint)
        self.status = status


class NetworkError(TransientError):
    """No usable answer: a timeout, a connection failure or a body cut short.

    ``connect`` is True when no connection was made at all (DNS failure, connection refused, TLS
    handshake, connect timeout): the failures that say the host is unreachable rather than slow.
    ``timeout`` is True for connect, read, write and pool timeouts.
    """

    def __init__(
        self, message: str, *, connect: bool = False, timeout: bool = False, endpoint: str = "", hint: str = ""
    ) -> None:
        super().__init__(message, endpoint=endpoint, hint=hint)
        self.connect = connect
        self.timeout = timeout


class TerminalError(GeckolakeError):
    """Retrying will not help."""


class ConfigError(TerminalError):
    """A setting is missing or invalid."""


class SecretError(TerminalError):
    """An API key could not be read from its provider."""


class ApiError(TerminalError):
    """A 4xx answer from CoinGecko."""

    def __init__(
        self, message: str, *, status: int, endpoint: str = "", coin_id: str | None = None, hint: str = ""
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.endpoint = endpoint
        self.coin_id = coin_id


class AuthError(ApiError):
    """401/403: missing or wrong key, or an endpoint the plan does not include."""


class NotFound(ApiError):
    """404: unknown coin or path."""


class ApiUnreachable(TerminalError):
    """Connection after connection to the API failed: the network or the base URL is the problem.

    Raised by the client's circuit breaker; ``host`` is the API's host (never a key or a query).
    """

    def __init__(self, message: str, *, host: str, failures: int, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.host = host
        self.failures = failures


class FetchFailed(TerminalError):
    """A request that kept failing after every retry.

    ``cause`` describes the last failure; ``last_error`` is that failure itself (also ``__cause__``).
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        attempts: int,
        cause: str,
        last_error: TransientError | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(message, hint=hint)
        self.endpoint = endpoint
        self.attempts = attempts
        self.cause = cause
        self.last_error = last_error


class ParseError(TerminalError):
    """A response body that is not what its endpoint promises."""


class LakeError(TerminalError):
    """The lake folder or its catalog cannot be used."""


class LakeLocked(LakeError):
    """Another process is writing this lake."""


class DiskFull(LakeError):
    """The disk (or quota) holding the lake ran out while writing it."""


# EFBIG too: a file-size limit (ulimit -f) is no room either.
_NO_ROOM_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_NO_ROOM_TEXT = ("no space left on device", "database or disk is full", "disk quota exceeded", "file too large")


def disk_full(error: BaseException, lake: object = None) -> DiskFull | None:
    """A :class:`DiskFull` for ``error`` when it (or an error it wraps) says the disk is full, else None.

    PyArrow, SQLite (through SQLAlchemy) and the OS each say it their own way, often wrapped.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        text = str(e).lower()
        if (isinstance(e, OSError) and e.errno in _NO_ROOM_ERRNOS) or any(t in text for t in _NO_ROOM_TEXT):
            detail = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
            return DiskFull(
                f"the disk holding the lake{f' {lake}' if lake else ''} is full ({detail})",
                hint="free some space (or point --lake elsewhere) and run again: committed batches are kept, "
                "an interrupted one is completed by the next run, and `geckolake compact` deletes the files "
                "no snapshot needs",
            )
        todo += [e.__cause__, e.__context__, getattr(e, "orig", None)]
    return None


class QueryError(TerminalError):
    """Invalid SQL given to ``geckolake sql``."""
