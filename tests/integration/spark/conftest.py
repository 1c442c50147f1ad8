"""One local SparkSession per test module (``local[2]``: the machine's 2 shared cores)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from tests.spark_support import JAVA, NO_JAVA

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    if JAVA is None:
        pytest.skip(NO_JAVA)
    from geckolake.transform.spark_engine import build_session

    logging.getLogger("py4j").setLevel(logging.WARNING)  # its goodbyes at exit go to closed streams
    session = build_session("local[2]", app_name="geckolake-tests")
    session.conf.set("spark.sql.shuffle.partitions", "2")
    yield session
    session.stop()
