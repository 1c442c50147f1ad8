"""One factory for the lake's Iceberg catalog and its filesystem, whatever the backend.

:func:`build_catalog` turns a :class:`~geckolake.lake.location.LakeSpec` into PyIceberg catalog
properties and hands them to PyIceberg's own ``load_catalog`` (so a user's notebook that calls
``load_catalog`` with the same properties sees the same tables; docs/using-the-lake.md lists them).
:func:`lake_filesystem` gives the PyArrow filesystem the raw bodies and locks use: the same store,
identity and endpoint as the tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geckolake.errors import LakeError
from geckolake.lake.aws import aws_access

if TYPE_CHECKING:
    from pyarrow import fs as pafs
    from pyiceberg.catalog import Catalog

    from geckolake.lake.location import LakeSpec

CATALOG_FILE = "catalog.db"


def catalog_properties(spec: LakeSpec) -> dict[str, str]:
    """The PyIceberg ``load_catalog`` properties of ``spec``'s catalog (credentials included: never log them).

    Raises:
        LakeError: AWS access is needed and not configured.
    """
    props: dict[str, str] = {"warehouse": spec.warehouse}
    if spec.catalog == "sqlite":
        props |= {"type": "sql", "uri": f"sqlite:///{spec.root / CATALOG_FILE}"}
    elif spec.catalog == "sql":
        props |= {"type": "sql", "uri": str(spec.catalog_uri)}
    elif spec.catalog == "glue":
        props |= {"type": "glue"}
    elif spec.catalog == "rest":
        props |= {"type": "rest", "uri": str(spec.catalog_uri)}
    else:
        raise LakeError(f"unknown catalog {spec.catalog!r}", hint="use sqlite, glue, sql or rest")
    if not spec.is_local or spec.catalog == "glue":
        props |= aws_access(spec).iceberg_properties()
    return props | dict(spec.properties)


def build_catalog(spec: LakeSpec) -> Catalog:
    """PyIceberg's catalog for ``spec`` (named ``spec.catalog_name``).

    Raises:
        LakeError: the catalog's driver is missing or it cannot be reached/configured.
    """
    from pyiceberg.catalog import load_catalog

    props = catalog_properties(spec)
    try:
        return load_catalog(spec.catalog_name, **props)
    except ModuleNotFoundError as e:
        extra = {"glue": "aws", "sql": "postgres"}.get(spec.catalog, spec.catalog)
        raise LakeError(
            f"the {spec.catalog} catalog needs {e.name}, which is not installed",
            hint=f"pip install 'geckolake[{extra}]'",
        ) from e
    except Exception as e:
        raise LakeError(
            f"cannot open the {spec.catalog} catalog of the lake {spec.location}: {_first_line(e)}",
            hint="check the catalog settings (GECKOLAKE_CATALOG, GECKOLAKE_CATALOG_URI) and that it is reachable",
        ) from e


def lake_filesystem(spec: LakeSpec) -> tuple[pafs.FileSystem, str]:
    """The PyArrow filesystem holding the lake's files, and the lake's base path in it.

    Raises:
        LakeError: AWS access is needed and not configured.
    """
    from pyarrow import fs as pafs

    if spec.is_local:
        return pafs.LocalFileSystem(), spec.location
    return aws_access(spec).filesystem(), spec.location.removeprefix("s3://")


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
