"""Where a flow finds its lake: an existing one to read, or one to write under the writer lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from geckolake.ingest.pipeline import ensure_writable
from geckolake.lake.catalog import check_catalog, check_folder, check_not_moved, open_lake, require_lake
from geckolake.lake.location import lake_spec
from geckolake.lake.lock import writer_lock

if TYPE_CHECKING:
    from geckolake.config import Settings
    from geckolake.lake.catalog import Lake


def existing_lake(settings: Settings) -> Lake:
    """The lake the settings name, for reading (never created, no lock: readers see whole snapshots).

    Raises:
        LakeError: there is no lake there.
    """
    return open_lake(settings, read_only=True)


@contextmanager
def writing(settings: Settings) -> Iterator[Lake]:
    """An existing lake, opened under its writer lock for the ``with`` block.

    Raises:
        LakeError: there is no lake there.
        LakeLocked: another process is writing it.
    """
    require_lake(settings)
    with writer_lock(settings):
        yield open_lake(settings)


@contextmanager
def creating(settings: Settings) -> Iterator[None]:
    """The writer lock of a lake that may not exist yet (the first commit creates it).

    Fails before any API credit is spent when the folder cannot be written (a remote lake's store is
    checked when the lock object is written).

    Raises:
        LakeError: the folder is not writable, or the remote store cannot be reached.
        LakeLocked: another process is writing the lake.
    """
    spec = lake_spec(settings)
    if spec.is_local:
        ensure_writable(spec.root)
        check_folder(spec.root)  # before the lock file marks the folder as a lake
        check_not_moved(spec.root)
    check_catalog(spec)  # reachable and not another tool's, before any API credit is spent
    with writer_lock(spec):
        yield
