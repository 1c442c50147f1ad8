"""The ``geckolake`` command line: ``options`` (shared options → Settings), ``commands``, ``render``."""

from __future__ import annotations

import sys
from typing import NoReturn

from geckolake.cli.commands import app


def main() -> None:
    """Console-script entry point: run the command, then end the process at once (see :func:`_end`).

    An exception that escapes the command (a bug: our errors become an ``error:`` line and an exit
    code) is left to Python, which prints its traceback and exits as usual.
    """
    try:
        app()
    except SystemExit as done:
        _end(done.code)
    _end(0)


def _end(code: int | str | None) -> NoReturn:
    """Exit with ``code`` as ``sys.exit`` would, without the interpreter's teardown.

    After a run the interpreter spends ~0.4 s (measured at the end of W0) freeing every module and
    object one by one before the process ends, work the operating system does at once. Everything
    Python's own exit would still do that has an effect is done here first: non-daemon threads are
    joined (thread pools are told to stop first), exit handlers run (logging flushes its handlers,
    ``weakref.finalize`` removes temporary folders), standard output and error are flushed. Then
    ``os._exit`` ends the process.
    """
    import atexit
    import os
    import threading

    if isinstance(code, str):  # sys.exit("message"): the message goes to stderr, the status is 1
        print(code, file=sys.stderr)
        code = 1
    status = 0 if code is None else code
    # What Python's exit does first, in its order: ``threading._shutdown`` tells idle thread pools
    # to stop and joins every non-daemon thread; then the atexit handlers.
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`geckolake runs | head`): Python exits 120 then
            status = status or 120
    os._exit(status)


__all__ = ["app", "main"]
