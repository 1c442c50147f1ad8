"""Keep secrets out of logs and error messages.

Secrets (API keys) are registered once, by whoever reads them (the client registers its key).
:class:`RedactingFilter` replaces every registered value with ``***`` in a log record's message and
arguments. Attach it to *handlers* (:func:`install`): a filter on a logger only sees records created
on that very logger, not those propagated from ``geckolake.api.client`` and friends.

The primary defence is still never to put a key anywhere but a request header; redaction is the net
under it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

MASK = "***"
# Short values would mask ordinary words ("usd") all over the logs; real keys are far longer.
MIN_SECRET_LENGTH = 6

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Add ``value`` to the process-wide redaction list (ignored if empty or too short to be a key)."""
    if value and len(value.strip()) >= MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)
            _secrets.add(value.strip())


def registered_secrets() -> frozenset[str]:
    """The values currently redacted."""
    with _lock:
        return frozenset(_secrets)


def clear_secrets() -> None:
    """Forget every registered secret (for tests)."""
    with _lock:
        _secrets.clear()


def redact(text: str, secrets: Iterable[str | None] | None = None) -> str:
    """``text`` with every secret (``secrets`` plus the registered ones) replaced by ``***``."""
    values = {s for s in (secrets or ()) if s and len(s) >= MIN_SECRET_LENGTH} | registered_secrets()
    # Longest first, so a secret that contains another is masked whole.
    for value in sorted(values, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return text


_TRACEBACK_FORMATTER = logging.Formatter()


class RedactingFilter(logging.Filter):
    """A logging filter that masks registered secrets (and ``extra`` ones) in each record."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        super().__init__()
        self._extra = tuple(extra)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as usual
            return True
        redacted = redact(message, self._extra)
        if redacted != message:
            # Fold the args in so no handler can re-format the secret back from them.
            record.msg = redacted
            record.args = None
        if record.exc_info and not record.exc_text:
            # Handlers format tracebacks after filters run; format it now so it can be masked too.
            record.exc_text = _TRACEBACK_FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._extra)
        return True


def install(target: logging.Handler | logging.Logger | None = None) -> None:
    """Attach a :class:`RedactingFilter` to ``target`` (default: every handler of the root logger).

    Idempotent. Call it after logging is configured (the CLI does); a handler added later needs
    its own call.
    """
    if target is None:
        for handler in logging.getLogger().handlers:
            install(handler)
        return
    if not any(isinstance(f, RedactingFilter) for f in target.filters):
        target.addFilter(RedactingFilter())
