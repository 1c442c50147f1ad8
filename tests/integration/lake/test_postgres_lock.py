"""The writer lock of a lake with a PostgreSQL catalog: an advisory lock that names its holder, and that
the server releases when the holder dies (``kill -9``) — no stale lock, no manual cleanup."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.servers import create_database, postgres_bin, postgres_server

from geckolake.errors import LakeLocked
from geckolake.lake.location import LakeSpec
from geckolake.lake.lock import writer_lock

HOLDER = """
import sys, time
from geckolake.lake.location import LakeSpec
from geckolake.lake.lock import writer_lock
with writer_lock(LakeSpec(sys.argv[1], catalog="sql", catalog_uri=sys.argv[2])):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture(scope="module")
def catalog_uri() -> Iterator[str]:
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run installs it)")
    with postgres_server() as pg:
        yield create_database(pg, "locks")


def test_a_second_writer_is_refused_until_the_first_dies(catalog_uri: str, tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    spec = LakeSpec(lake, catalog="sql", catalog_uri=catalog_uri)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, lake, catalog_uri], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LakeLocked, match=rf"is writing {lake} \(.* pid {holder.pid}\)"), writer_lock(spec):
            pass
        other = LakeSpec(str(tmp_path / "other"), catalog="sql", catalog_uri=catalog_uri)
        with writer_lock(other):  # another lake in the same database is not blocked
            pass
        holder.kill()
        holder.wait()
        with writer_lock(spec):  # the server dropped the dead session's lock
            pass
    finally:
        holder.kill()


def test_an_unreachable_catalog_database_is_one_clear_error(tmp_path: Path) -> None:
    from geckolake.errors import LakeError

    spec = LakeSpec(str(tmp_path), catalog="sql", catalog_uri="postgresql+psycopg://nobody@127.0.0.1:9/none")
    with pytest.raises(LakeError, match="cannot reach the catalog database") as info, writer_lock(spec):
        pass
    assert "nobody@" not in str(info.value)
