"""Where a lake lives and which Iceberg catalog holds its tables: :class:`LakeSpec`.

A lake is a *location* (a local folder or an ``s3://bucket/prefix`` URI) plus a *catalog*:

==========  =========================================  ==============================================
catalog     tables are listed in                       default for
==========  =========================================  ==============================================
``sqlite``  ``<folder>/catalog.db`` (PyIceberg SQL)    local folders
``glue``    the AWS Glue Data Catalog                  ``s3://`` lakes
``sql``     any SQLAlchemy database (PostgreSQL...)    — (``catalog_uri`` names it; for teams)
``rest``    an Iceberg REST catalog                    — (``catalog_uri`` is its URL)
==========  =========================================  ==============================================

Whatever the catalog, the lake's files sit under its location: ``warehouse/<layer>/<table>/`` for
Iceberg, ``raw/`` for the API bodies, ``locks/`` (remote lakes) for the writer lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from geckolake.errors import LakeError

if TYPE_CHECKING:
    from geckolake.config import Settings

CATALOGS = ("sqlite", "glue", "sql", "rest")
REMOTE_SCHEMES = ("s3",)
WAREHOUSE = "warehouse"


@dataclass(frozen=True)
class LakeSpec:
    """A lake's location and catalog, resolved from the settings (see :func:`lake_spec`)."""

    location: str  # an absolute local path, or "s3://bucket/prefix" without a trailing slash
    catalog: str = "sqlite"
    catalog_uri: str | None = None
    catalog_name: str = "geckolake"
    namespace_prefix: str = ""  # Glue database prefix ("geckolake_"); empty for the other catalogs
    properties: tuple[tuple[str, str], ...] = ()  # extra PyIceberg properties; a tuple keeps the spec hashable
    aws_region: str | None = None
    aws_endpoint_url: str | None = None

    @property
    def is_local(self) -> bool:
        return "://" not in self.location

    @property
    def root(self) -> Path:
        """The local folder of a local lake.

        Raises:
            LakeError: the lake is not local.
        """
        if not self.is_local:
            raise LakeError(f"the lake {self.location} is not a local folder", hint="this needs a local lake")
        return Path(self.location)

    @property
    def uri(self) -> str:
        """The location as a URI (``file:///...`` or ``s3://...``), no trailing slash."""
        return Path(self.location).as_uri() if self.is_local else self.location

    def child(self, *parts: str) -> str:
        """The URI of ``parts`` under the lake's location."""
        return "/".join([self.uri, *parts])

    @property
    def warehouse(self) -> str:
        return self.child(WAREHOUSE)

    def namespace(self, layer: str) -> str:
        """The catalog namespace (Glue database) holding ``layer``'s tables."""
        return self.namespace_prefix + layer

    def __str__(self) -> str:
        return self.location


def parse_location(text: str | Path) -> str:
    """A lake location as geckolake stores it: an absolute local path, or ``s3://bucket/prefix``.

    Raises:
        LakeError: an unsupported scheme, or an ``s3://`` URI without a bucket.
    """
    raw = str(text).strip()
    if "://" not in raw:
        return str(Path(raw).expanduser().resolve())
    parsed = urlparse(raw)
    scheme = parsed.scheme.lower()
    if scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise LakeError(f"cannot use the lake {raw}: file:// URIs name a local path", hint="use file:///abs/path")
        return str(Path(unquote(parsed.path)).resolve())
    if scheme in ("s3a", "s3n"):
        scheme = "s3"
    if scheme not in REMOTE_SCHEMES:
        raise LakeError(
            f"cannot use the lake {raw}: {parsed.scheme}:// is not supported",
            hint="use a local folder, file:///path or s3://bucket/prefix",
        )
    if not parsed.netloc:
        raise LakeError(f"the lake {raw} names no bucket", hint="use s3://bucket/prefix")
    prefix = parsed.path.strip("/")
    return f"s3://{parsed.netloc}/{prefix}" if prefix else f"s3://{parsed.netloc}"


def lake_spec(where: Settings | LakeSpec | str | Path) -> LakeSpec:
    """The :class:`LakeSpec` for settings, a spec, or a bare location (default catalog).

    Raises:
        LakeError: the location or catalog choice is unusable.
    """
    if isinstance(where, LakeSpec):
        return where
    if isinstance(where, str | Path):
        location = parse_location(where)
        return LakeSpec(location, catalog=_default_catalog(location), namespace_prefix=_prefix(location, None))
    settings = where
    location = parse_location(settings.lake)
    catalog = settings.catalog or _default_catalog(location)
    if catalog == "sqlite" and "://" in location:
        raise LakeError(
            f"the sqlite catalog keeps catalog.db in a local folder, and the lake {location} is not one",
            hint="use GECKOLAKE_CATALOG=glue (or sql/rest with GECKOLAKE_CATALOG_URI) for an s3:// lake",
        )
    if catalog in ("sql", "rest") and not settings.catalog_uri:
        raise LakeError(
            f"the {catalog} catalog needs its URI",
            hint="set GECKOLAKE_CATALOG_URI (or [lake] catalog_uri in geckolake.toml), e.g. "
            + ("postgresql+psycopg://user@host/db" if catalog == "sql" else "https://catalog.example.com"),
        )
    return LakeSpec(
        location,
        catalog=catalog,
        catalog_uri=settings.catalog_uri,
        catalog_name=settings.catalog_name,
        namespace_prefix=settings.glue_database_prefix if catalog == "glue" else "",
        properties=tuple(sorted(settings.catalog_properties.items())),
        aws_region=settings.aws_region,
        aws_endpoint_url=settings.aws_endpoint_url,
    )


def _default_catalog(location: str) -> str:
    return "sqlite" if "://" not in location else "glue"


def _prefix(location: str, configured: str | None) -> str:
    return (configured if configured is not None else "geckolake_") if _default_catalog(location) == "glue" else ""
