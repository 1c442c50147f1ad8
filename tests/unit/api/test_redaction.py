"""Secrets are masked in text and in log records."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from geckolake.api import redaction
from geckolake.api.redaction import RedactingFilter, install, redact, register_secret

KEY = "CG-redactMe-abcdef123456"


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    before = redaction.registered_secrets()
    yield
    redaction.clear_secrets()
    for value in before:
        register_secret(value)


def test_redact_with_explicit_secrets() -> None:
    assert redact(f"a {KEY} b {KEY}", [KEY]) == "a *** b ***"
    assert redact("usd", ["usd"]) == "usd"  # too short to be a key: not masked
    assert redact("nothing here", [None, ""]) == "nothing here"


def test_longest_secret_masked_first() -> None:
    long = KEY + "-extended"
    assert redact(f"x {long} y", [KEY, long]) == "x *** y"


def test_registered_secrets_are_masked() -> None:
    register_secret(KEY)
    assert redact(f"key={KEY}") == "key=***"
    register_secret("abc")  # ignored
    assert "abc" not in redaction.registered_secrets()


def make_logger(name: str) -> tuple[logging.Logger, list[logging.LogRecord], logging.Handler]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            self.format(record)
            records.append(record)

    handler = Keep()
    log = logging.getLogger(name)
    log.handlers = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    return log, records, handler


def test_filter_masks_message_args_and_traceback() -> None:
    register_secret(KEY)
    log, records, handler = make_logger("geckolake.test.redaction")
    install(handler)
    install(handler)  # idempotent
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    log.debug("sending with %s and %r", KEY, {"k": KEY})
    try:
        raise RuntimeError(f"boom {KEY}")
    except RuntimeError:
        log.exception("failed")
    text = " ".join(r.getMessage() + (r.exc_text or "") for r in records)
    assert KEY not in text and "***" in text
    assert "RuntimeError" in text


def test_filter_with_extra_values() -> None:
    log, records, handler = make_logger("geckolake.test.redaction.extra")
    handler.addFilter(RedactingFilter(extra=["other-secret-value"]))
    log.info("v=%s", "other-secret-value")
    assert records[0].getMessage() == "v=***"


def test_install_on_root_handlers() -> None:
    root = logging.getLogger()
    handler = logging.NullHandler()
    root.addHandler(handler)
    try:
        install()
        assert any(isinstance(f, RedactingFilter) for f in handler.filters)
    finally:
        root.removeHandler(handler)
