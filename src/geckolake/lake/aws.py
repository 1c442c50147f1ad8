"""AWS access for ``s3://`` lakes: region, credentials and endpoints from the standard AWS chain.

One resolution feeds every client the lake uses — PyIceberg's Glue catalog and S3 FileIO, PyArrow's
S3 filesystem (raw bodies, DuckDB views) and boto3's S3 client (the lock object) — so they all talk
to the same endpoint with the same identity. ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL_GLUE`` /
``AWS_ENDPOINT_URL`` (or the ``aws_endpoint_url`` setting) are honoured everywhere: boto3 reads them
itself, PyArrow and PyIceberg's FileIO do not, hence the explicit properties below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from geckolake.errors import LakeError

if TYPE_CHECKING:
    from pyarrow import fs as pafs

    from geckolake.lake.location import LakeSpec

_INSTALL_HINT = "install the AWS extra: pip install 'geckolake[aws]'"


@dataclass(frozen=True)
class AwsAccess:
    """Resolved region, credentials and per-service endpoints (``None`` = AWS's own)."""

    region: str
    access_key: str
    secret_key: str = ""
    session_token: str | None = None
    s3_endpoint: str | None = None
    glue_endpoint: str | None = None

    def __repr__(self) -> str:  # credentials never reach a log line or a traceback
        return f"AwsAccess(region={self.region!r}, s3_endpoint={self.s3_endpoint!r})"

    def iceberg_properties(self) -> dict[str, str]:
        """PyIceberg properties for the Glue catalog and its S3 FileIO."""
        props = {
            "client.region": self.region,
            "glue.region": self.region,
            "s3.region": self.region,  # without it PyIceberg resolves the bucket's region per FileIO (~6 s offline)
            "client.access-key-id": self.access_key,
            "client.secret-access-key": self.secret_key,
        }
        if self.session_token:
            props["client.session-token"] = self.session_token
        if self.s3_endpoint:
            props["s3.endpoint"] = self.s3_endpoint
        if self.glue_endpoint:
            props["glue.endpoint"] = self.glue_endpoint
        return props

    def filesystem(self) -> pafs.S3FileSystem:
        """A PyArrow S3 filesystem with this identity and endpoint."""
        from pyarrow import fs as pafs

        kwargs: dict[str, Any] = {
            "region": self.region,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "session_token": self.session_token,
        }
        if self.s3_endpoint:
            scheme, _, host = self.s3_endpoint.partition("://")
            kwargs |= {"endpoint_override": host.rstrip("/"), "scheme": scheme}
        return pafs.S3FileSystem(**kwargs)

    def s3_client(self) -> Any:
        """A boto3 S3 client with this identity and endpoint."""
        import boto3

        return boto3.client(
            "s3",
            region_name=self.region,
            endpoint_url=self.s3_endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            aws_session_token=self.session_token,
        )


def aws_access(spec: LakeSpec) -> AwsAccess:
    """The AWS identity and endpoints for ``spec``'s lake, from the standard chain.

    Raises:
        LakeError: boto3 is missing, or no region or no credentials are configured.
    """
    try:
        import boto3
    except ImportError as e:
        raise LakeError(f"the lake {spec.location} is on S3 and boto3 is not installed", hint=_INSTALL_HINT) from e
    # boto3 reads AWS_DEFAULT_REGION and profiles but not AWS_REGION, which the other AWS SDKs, Lambda and
    # Glue set: honour both.
    explicit = spec.aws_region or os.environ.get("AWS_REGION")
    session = boto3.Session(region_name=explicit) if explicit else boto3.Session()
    region = session.region_name
    if not region:
        raise LakeError(
            f"no AWS region for the lake {spec.location}",
            hint="set AWS_REGION (or AWS_DEFAULT_REGION, a profile's region, or aws_region in geckolake.toml)",
        )
    credentials = session.get_credentials()
    if credentials is None:
        raise LakeError(
            f"no AWS credentials for the lake {spec.location}",
            hint="configure the AWS chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, SSO or a role",
        )
    frozen = credentials.get_frozen_credentials()
    return AwsAccess(
        region=region,
        access_key=frozen.access_key,
        secret_key=frozen.secret_key,
        session_token=frozen.token,
        s3_endpoint=_endpoint("S3", spec.aws_endpoint_url),
        glue_endpoint=_endpoint("GLUE", spec.aws_endpoint_url),
    )


def _endpoint(service: str, configured: str | None) -> str | None:
    """The service's endpoint as the AWS SDKs resolve it: service variable, global variable, setting."""
    return os.environ.get(f"AWS_ENDPOINT_URL_{service}") or configured or os.environ.get("AWS_ENDPOINT_URL") or None
