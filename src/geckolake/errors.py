"""The one error tree of geckolake.

Callers only ever meet these; third-party errors are translated at the boundary with
``raise ... from e``.

    GeckolakeError
    ├── TransientError            worth retrying (the client retries these itself)
    │   ├── RateLimited           HTTP 429; carries retry_after seconds
    │   ├── ServerError           HTTP 5xx
    │   └── NetworkError          timeouts, refused connections, bodies cut short
    └── TerminalError             retrying will not help; say what to do instead
        ├── ConfigError           a setting is missing or invalid
        ├── SecretError           an API key could not be read from its provider
        ├── ApiError              a 4xx answer from CoinGecko
        │   ├── AuthError         401/403, error codes 10002 / 10005 (wrong key, paid-only endpoint)
        │   └── NotFound          unknown coin or path
        ├── FetchFailed           a request still failing after every retry
        ├── ParseError            a body that is not what the endpoint promises
        ├── LakeError             the lake folder or catalog cannot be used
        │   └── LakeLocked        another run is writing this lake
        └── QueryError            invalid SQL given to ``geckolake sql``

Every message says what happened and what to do; none contains a secret.
"""

from __future__ import annotations


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
    """A failure that may pass if the same request is tried again later."""


class RateLimited(TransientError):
    """HTTP 429 from CoinGecko (or its CDN)."""

    def __init__(self, message: str, *, retry_after: float | None = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class ServerError(TransientError):
    """HTTP 5xx."""

    def __init__(self, message: str, *, status: int, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.status = status


class NetworkError(TransientError):
    """Timeout, connection failure or a body cut short."""


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


class FetchFailed(TerminalError):
    """A request that kept failing after every retry."""

    def __init__(self, message: str, *, endpoint: str, attempts: int, cause: str, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.endpoint = endpoint
        self.attempts = attempts
        self.cause = cause


class ParseError(TerminalError):
    """A response body that is not what its endpoint promises."""


class LakeError(TerminalError):
    """The lake folder or its catalog cannot be used."""


class LakeLocked(LakeError):
    """Another process is writing this lake."""


class QueryError(TerminalError):
    """Invalid SQL given to ``geckolake sql``."""
