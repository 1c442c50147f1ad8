"""Spark writes the lake's Iceberg tables itself, through its own Iceberg catalog (docs/spark.md, "Write paths").

The other write path (``spark_engine``: Spark computes, the result is collected to the driver and
committed by PyIceberg) needs no jar and works on any session. This one keeps the data on the
executors: each result is written by Spark's Iceberg writer (``DataFrameWriterV2.overwrite``, one
commit per table, as ``Lake.replace``) into the same catalog geckolake uses. It is chosen when the
session has an Iceberg catalog configured *for this lake* (:func:`lake_catalog`):

* On AWS Glue 5.0: ``--datalake-formats iceberg`` and a catalog named as the lake's
  (``spark.sql.catalog.geckolake``) on the Glue Data Catalog with the lake's warehouse
  (``deploy/aws``, ``glue_engines``: Terraform sets both for a job on the spark engine).
* Locally: :func:`iceberg_session` starts a session with the Iceberg runtime jar (PyPI
  ``snowpark-connect-deps-iceberg==1.0.2``: Apache Iceberg 1.10.2's ``iceberg-spark-runtime-3.5_2.12``
  with its relocated Jackson and HttpClient5; 1.0.3 strips them) and the SQLite JDBC driver (Debian
  ``libxerial-sqlite-jdbc-java``), with a JDBC catalog on the lake's ``catalog.db``.

What PyIceberg reads back is what Spark committed: the same catalog rows, the same metadata files
(tests/integration/spark/test_iceberg_writes.py).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geckolake.errors import ConfigError
from geckolake.lake.backends import CATALOG_FILE
from geckolake.lake.catalog import Lake
from geckolake.lake.location import LakeSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SPARK_CATALOG = "org.apache.iceberg.spark.SparkCatalog"
GLUE_CATALOG_IMPL = "org.apache.iceberg.aws.glue.GlueCatalog"
# The runtime of Spark 3.5 / Scala 2.12 (PySpark 3.5's and Glue 5.0's); any Iceberg 1.x release.
RUNTIME_JAR = "iceberg-spark-runtime-3.5_2.12-*.jar"
# Debian's libxerial-sqlite-jdbc-java installs the driver here.
SQLITE_JDBC_JARS = ("/usr/share/java/sqlite-jdbc.jar", "/usr/share/java/xerial-sqlite-jdbc.jar")
JARS_ENV = "GECKOLAKE_ICEBERG_SPARK_JARS"  # os.pathsep-separated jars that replace the lookup below
INSTALL_HINT = (
    "pip install 'geckolake[spark-iceberg]' (the Iceberg runtime jar) and apt-get install "
    f"libxerial-sqlite-jdbc-java (the SQLite JDBC driver), or name both jars in {JARS_ENV}"
)


def runtime_jars() -> list[Path]:
    """The jars a local session needs to write the lake's tables itself: Iceberg's Spark runtime and
    the SQLite JDBC driver.

    Raises:
        ConfigError: one of them is not installed.
    """
    named = os.environ.get(JARS_ENV)
    if named:
        jars = [Path(p) for p in named.split(os.pathsep) if p]
        missing = [str(p) for p in jars if not p.is_file()]
        if missing:
            raise ConfigError(f"{JARS_ENV} names missing jars: {', '.join(missing)}", hint=INSTALL_HINT)
        return jars
    try:
        from snowpark_connect_deps_iceberg import get_jars_dir
    except ImportError:
        raise ConfigError("the Iceberg runtime jar for Spark is not installed", hint=INSTALL_HINT) from None
    runtime = sorted(glob.glob(str(get_jars_dir() / RUNTIME_JAR)))
    sqlite = next((Path(p) for p in SQLITE_JDBC_JARS if Path(p).is_file()), None)
    if not runtime or sqlite is None:
        what = "Iceberg's Spark runtime jar" if not runtime else "the SQLite JDBC driver"
        raise ConfigError(f"{what} is missing", hint=INSTALL_HINT)
    return [Path(runtime[-1]), sqlite]


def local_catalog_conf(spec: LakeSpec) -> dict[str, str]:
    """Spark settings of an Iceberg catalog on a local lake's SQLite ``catalog.db``."""
    if not spec.is_local or spec.catalog != "sqlite":
        raise ConfigError(
            f"a local Iceberg session needs a local lake with its SQLite catalog, not {spec.location}",
            hint="on Glue, the job's --datalake-formats iceberg and the Glue catalog are used instead",
        )
    prefix = f"spark.sql.catalog.{spec.catalog_name}"
    return {
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        prefix: SPARK_CATALOG,
        f"{prefix}.type": "jdbc",
        f"{prefix}.uri": f"jdbc:sqlite:{spec.root / CATALOG_FILE}",
        f"{prefix}.warehouse": spec.warehouse,
        # PyIceberg made the catalog's tables; a Spark that creates them holds the SQLite file locked
        # while idle, and PyIceberg's next commit then fails with "database is locked".
        f"{prefix}.jdbc.init-catalog-tables": "false",
    }


def iceberg_session(spec: LakeSpec, master: str = "local[*]", app_name: str = "geckolake") -> SparkSession:
    """A local session that writes ``spec``'s tables itself (Iceberg's runtime, a JDBC catalog on
    the lake's SQLite file). The jars load when the JVM starts: a process that already started a
    session without them must start this one in a new process.

    Raises:
        ConfigError: PySpark, the jars or Java are missing, or the lake is not a local SQLite lake.
    """
    from geckolake.transform.spark_engine import LOCAL_CONF, SESSION_CONF, configure

    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        raise ConfigError("the spark engine needs PySpark", hint="pip install 'geckolake[spark]'") from e
    conf = {
        **SESSION_CONF,
        **LOCAL_CONF,
        **local_catalog_conf(spec),
        "spark.jars": ",".join(str(j) for j in runtime_jars()),
    }
    builder: Any = SparkSession.builder.appName(app_name).master(master)
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session: SparkSession = builder.getOrCreate()
    except Exception as e:  # a missing Java arrives as a generic runtime error
        raise ConfigError(f"Spark could not start: {e}", hint="Spark needs Java 17 on PATH or JAVA_HOME") from e
    configure(session)
    return session


def lake_catalog(spark: SparkSession, lake: Lake) -> str | None:
    """The name of ``spark``'s Iceberg catalog for ``lake``, or None when it has none (then the
    results go through the driver to PyIceberg)."""
    return catalog_for(lambda key: spark.conf.get(key, None), lake.spec)


def catalog_for(conf: Callable[[str], str | None], spec: LakeSpec) -> str | None:
    """The Iceberg catalog that the Spark settings ``conf`` (key → value or None) configure for the
    lake ``spec``, or None. It must bear the lake's catalog name (a JDBC catalog keeps only the rows
    of its own name) and point at the lake's catalog: its SQLite file, or Glue with its warehouse."""
    name = spec.catalog_name
    prefix = f"spark.sql.catalog.{name}"
    if conf(prefix) != SPARK_CATALOG:
        return None
    kind, impl = conf(f"{prefix}.type"), conf(f"{prefix}.catalog-impl")
    warehouse = (conf(f"{prefix}.warehouse") or "").rstrip("/")
    if spec.catalog == "sqlite" and spec.is_local:
        same = kind == "jdbc" and conf(f"{prefix}.uri") == f"jdbc:sqlite:{spec.root / CATALOG_FILE}"
    elif spec.catalog == "glue":
        same = (kind == "glue" or impl == GLUE_CATALOG_IMPL) and warehouse == spec.warehouse
    else:
        same = False
    return name if same else None


def replace(spark: SparkSession, catalog: str, lake: Lake, name: str, frame: DataFrame) -> int:
    """Replace the whole content of table ``name`` with ``frame``'s rows in one Iceberg commit made by
    Spark; the rows the table holds after it.

    Raises:
        LakeError: no such table.
    """
    from pyspark.sql import functions as F

    from geckolake.transform.spark_engine import spark_type

    schema = lake.arrow_schema(name)
    # the table's columns, in its order and types (the models' results may differ in both)
    columns = [F.col(f.name).cast(spark_type(f.type)).alias(f.name) for f in schema]
    namespace, table = lake.ident(name)
    frame.select(*columns).writeTo(f"{catalog}.{namespace}.{table}").overwrite(F.lit(True))
    snapshot = lake.table(name).current_snapshot()  # loaded anew: what Spark committed
    total = snapshot.summary.get("total-records") if snapshot and snapshot.summary else None
    return int(total or 0)
