"""SSM Parameter Store and Secrets Manager providers against a moto server over HTTP."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from geckolake.api.redaction import registered_secrets
from geckolake.errors import SecretError
from geckolake.secrets import resolve_api_key

KEY = "CG-awsStoredKey-9876543210"
REGION = "eu-west-1"


def unique(prefix: str) -> str:
    # The moto server lives for the session; unique names keep tests independent (and xdist-safe).
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION)


def test_ssm_securestring(aws: str) -> None:
    name = f"/geckolake/{unique('key')}"
    client("ssm", aws).put_parameter(Name=name, Value=f"{KEY}\n", Type="SecureString")
    key = resolve_api_key(f"ssm:{name}", plan="pro", aws_endpoint_url=aws, aws_region=REGION)
    assert key == KEY
    assert KEY in registered_secrets()


def test_ssm_missing_parameter(aws: str) -> None:
    with pytest.raises(SecretError) as info:
        resolve_api_key("ssm:/geckolake/nope", plan="pro", aws_endpoint_url=aws, aws_region=REGION)
    text = str(info.value)
    assert "/geckolake/nope" in text and "does not exist" in text and "SecureString" in text


def test_ssm_empty_parameter_is_rejected(aws: str) -> None:
    name = f"/geckolake/{unique('blank')}"
    client("ssm", aws).put_parameter(Name=name, Value=" ", Type="SecureString")
    with pytest.raises(SecretError, match="is empty"):
        resolve_api_key(f"ssm:{name}", plan="pro", aws_endpoint_url=aws, aws_region=REGION)


def test_secrets_manager_raw_string(aws: str) -> None:
    name = unique("geckolake-raw")
    client("secretsmanager", aws).create_secret(Name=name, SecretString=KEY)
    assert resolve_api_key(f"secretsmanager:{name}", plan="demo", aws_endpoint_url=aws) == KEY


def test_secrets_manager_json_by_arn(aws: str) -> None:
    name = unique("geckolake-json")
    arn = client("secretsmanager", aws).create_secret(
        Name=name, SecretString=json.dumps({"api_key": KEY, "note": "x"})
    )["ARN"]
    assert resolve_api_key(f"secretsmanager:{arn}", plan="pro", aws_endpoint_url=aws) == KEY


def test_secrets_manager_json_without_api_key_does_not_leak(aws: str) -> None:
    name = unique("geckolake-badjson")
    client("secretsmanager", aws).create_secret(Name=name, SecretString=json.dumps({"token": KEY}))
    with pytest.raises(SecretError) as info:
        resolve_api_key(f"secretsmanager:{name}", plan="pro", aws_endpoint_url=aws)
    assert "api_key" in str(info.value) and "token" in str(info.value)
    assert KEY not in str(info.value)


def test_secrets_manager_missing_secret(aws: str) -> None:
    with pytest.raises(SecretError) as info:
        resolve_api_key("secretsmanager:geckolake-missing", plan="pro", aws_endpoint_url=aws)
    assert "does not exist" in str(info.value) and "create-secret" in str(info.value)


def test_unreachable_endpoint_is_a_secret_error(aws: str) -> None:
    # A closed port on loopback: connection refused, translated, no retry storm of minutes.
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()

    def factory(service: str, endpoint_url: str | None, region: str | None) -> Any:
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name=REGION,
            config=Config(retries={"max_attempts": 1}, connect_timeout=1),
        )

    with pytest.raises(SecretError, match="cannot reach AWS"):
        resolve_api_key("ssm:/x", plan="pro", aws_client_factory=factory)
