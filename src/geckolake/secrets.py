"""Where the CoinGecko API key comes from.

``resolve_api_key(source, plan=...)`` understands four sources:

========================== ==================================================================
``None`` or ``"env"``      ``COINGECKO_PRO_API_KEY`` for paid plans, ``COINGECKO_DEMO_API_KEY``
                           for demo, no key for public (the names the official SDK reads)
``"file:/path/to/key"``    the file's content, surrounding whitespace stripped
``"ssm:/param/name"``      AWS SSM Parameter Store, ``GetParameter(WithDecryption=True)``
                           (store it as a SecureString)
``"secretsmanager:id"``    AWS Secrets Manager ``GetSecretValue`` by name or ARN; the secret is the
                           raw key or JSON ``{"api_key": "..."}``
========================== ==================================================================

Every failure is a :class:`~geckolake.errors.SecretError` saying what to do; no message ever
contains the key. A resolved key is registered for log redaction straight away. boto3 is optional
(``pip install geckolake[aws]``) and imported only when an AWS source is used; tests and callers may
inject a client factory instead.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from geckolake.api.plans import get_plan
from geckolake.api.redaction import register_secret
from geckolake.errors import SecretError

logger = logging.getLogger(__name__)

DEMO_KEY_VAR = "COINGECKO_DEMO_API_KEY"
PRO_KEY_VAR = "COINGECKO_PRO_API_KEY"
SOURCE_FORMS = "env, file:/path/to/keyfile, ssm:/parameter/name, secretsmanager:name-or-arn"
AWS_INSTALL_HINT = "install the AWS extra: pip install geckolake[aws]"

# (service name, endpoint_url, region) -> a boto3 client; injectable so tests need no patching.
AwsClientFactory = Callable[[str, str | None, str | None], Any]


def resolve_api_key(
    source: str | None,
    *,
    plan: str,
    env: Mapping[str, str] = os.environ,
    aws_endpoint_url: str | None = None,
    aws_region: str | None = None,
    aws_client_factory: AwsClientFactory | None = None,
) -> str | None:
    """Read the API key for ``plan`` from ``source`` (see the module docstring for the forms).

    Returns ``None`` when the environment source has no key for the plan (always for ``public``);
    a plan that needs a key then gets a clear ``AuthError`` from the client on its first call.

    Raises:
        SecretError: the source is malformed, or its key is missing, empty or unreadable.
        ConfigError: ``plan`` is not a CoinGecko plan.
    """
    kind, _, location = (source or "env").partition(":")
    kind = kind.strip().lower()
    if kind == "env" and not location:
        key = _from_env(plan, env)
    elif kind == "file" and location:
        key = _from_file(location)
    elif kind in ("ssm", "secretsmanager") and location:
        factory = aws_client_factory or _boto3_client
        if kind == "ssm":
            key = _from_ssm(location, factory, aws_endpoint_url, aws_region)
        else:
            key = _from_secrets_manager(location, factory, aws_endpoint_url, aws_region)
    else:
        raise SecretError(
            f"unknown API key source {source!r}",
            hint=f"use one of: {SOURCE_FORMS} (flag --api-key-source or GECKOLAKE_API_KEY_SOURCE)",
        )
    if key is not None:
        register_secret(key)
    return key


def _from_env(plan: str, env: Mapping[str, str]) -> str | None:
    spec = get_plan(plan)
    if not spec.needs_key:
        return None
    var, other = (PRO_KEY_VAR, DEMO_KEY_VAR) if spec.paid else (DEMO_KEY_VAR, PRO_KEY_VAR)
    key = env.get(var, "").strip()
    if key:
        return key
    if env.get(other, "").strip():
        # A common slip: a demo key with a paid plan or the reverse; say so before the 401 does.
        logger.warning("%s is not set but %s is: plan %r reads %s", var, other, plan, var)
    return None


def _from_file(location: str) -> str:
    path = Path(location).expanduser()
    what = f"API key file {path}"
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SecretError(
            f"{what} does not exist", hint="create it with the key on one line, or change the key source"
        ) from None
    except IsADirectoryError:
        raise SecretError(f"{what} is a directory", hint="point file: at the file holding the key") from None
    except PermissionError:
        raise SecretError(f"{what} cannot be read (permission denied)", hint="chmod 600 it as its owner") from None
    except UnicodeDecodeError:
        # from None: the decode error would carry the file's bytes, i.e. possibly the key.
        raise SecretError(f"{what} is not UTF-8 text", hint="store the key as plain text") from None
    except OSError as e:
        raise SecretError(f"{what} cannot be read: {e.strerror}", hint="check the path") from None
    key = text.strip()
    if not key:
        raise SecretError(f"{what} is empty", hint="write the CoinGecko API key into it")
    if stat.S_IMODE(mode) & 0o077:
        logger.warning("%s is readable by other users; chmod 600 it", path)
    return key


def _boto3_client(service: str, endpoint_url: str | None, region: str | None) -> Any:
    try:
        import boto3
    except ImportError as e:
        raise SecretError(f"reading the API key from AWS {service} needs boto3", hint=AWS_INSTALL_HINT) from e
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region)


def _from_ssm(name: str, factory: AwsClientFactory, endpoint_url: str | None, region: str | None) -> str:
    what = f"SSM parameter {name!r}"
    try:
        client = factory("ssm", endpoint_url, region)
        answer = client.get_parameter(Name=name, WithDecryption=True)
    except SecretError:
        raise
    except Exception as e:
        raise _aws_error(e, what, "ssm:GetParameter and kms:Decrypt", _SSM_MISSING_HINT) from e
    parameter = answer.get("Parameter", {})
    if parameter.get("Type") not in (None, "SecureString"):
        logger.warning("%s is a %s, not a SecureString: it is stored unencrypted", what, parameter.get("Type"))
    key = str(parameter.get("Value", "")).strip()
    if not key:
        raise SecretError(f"{what} is empty", hint="put the CoinGecko API key in it")
    return key


def _from_secrets_manager(
    secret_id: str, factory: AwsClientFactory, endpoint_url: str | None, region: str | None
) -> str:
    what = f"Secrets Manager secret {secret_id!r}"
    try:
        client = factory("secretsmanager", endpoint_url, region)
        answer = client.get_secret_value(SecretId=secret_id)
    except SecretError:
        raise
    except Exception as e:
        raise _aws_error(e, what, "secretsmanager:GetSecretValue (and kms:Decrypt)", _SM_MISSING_HINT) from e
    raw = answer.get("SecretString")
    if raw is None and answer.get("SecretBinary") is not None:
        try:
            raw = bytes(answer["SecretBinary"]).decode("utf-8")
        except UnicodeDecodeError:
            raise SecretError(f"{what} is binary, not text", hint="store the key as a SecretString") from None
    return _key_from_secret_string(str(raw or ""), what)


def _key_from_secret_string(raw: str, what: str) -> str:
    text = raw.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            # from None: the decode error holds the whole secret string.
            raise SecretError(
                f"{what} looks like JSON but does not parse", hint='store {"api_key": "..."} or the bare key'
            ) from None
        value = data.get("api_key") if isinstance(data, dict) else None
        if not isinstance(value, str):
            fields = ", ".join(sorted(map(str, data))) if isinstance(data, dict) else type(data).__name__
            raise SecretError(
                f"{what} is JSON without a string field 'api_key' (it has: {fields})",
                hint='store {"api_key": "..."} or the bare key',
            )
        text = value.strip()
    if not text:
        raise SecretError(f"{what} is empty", hint="put the CoinGecko API key in it")
    return text


_SSM_MISSING_HINT = (
    "create it with `aws ssm put-parameter --type SecureString --name NAME --value KEY`, "
    "or check the name and the region"
)
_SM_MISSING_HINT = (
    "create it with `aws secretsmanager create-secret --name NAME --secret-string KEY`, "
    "or check the name and the region"
)
_NOT_FOUND_CODES = {"ParameterNotFound", "ResourceNotFoundException", "ParameterVersionNotFound"}
_DENIED_CODES = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "KMSAccessDeniedException"}
_CREDENTIAL_CODES = {"UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"}


def _aws_error(error: Exception, what: str, permissions: str, missing_hint: str) -> SecretError:
    """Translate a boto3/botocore failure into a SecretError that says what to do."""
    code = _aws_error_code(error)
    name = type(error).__name__
    if code in _NOT_FOUND_CODES:
        return SecretError(f"{what} does not exist", hint=missing_hint)
    if code in _DENIED_CODES:
        return SecretError(f"access to {what} was denied ({code})", hint=f"grant {permissions}")
    if code in _CREDENTIAL_CODES or name in ("NoCredentialsError", "PartialCredentialsError"):
        return SecretError(
            f"no valid AWS credentials to read {what} ({code or name})",
            hint="configure AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a role)",
        )
    if name == "NoRegionError":
        return SecretError(f"no AWS region to read {what} from", hint="set AWS_REGION or --aws-region")
    if name in (
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
    ):
        return SecretError(f"cannot reach AWS to read {what} ({name})", hint="check the network and the endpoint URL")
    detail = code or name
    return SecretError(f"reading {what} failed ({detail})", hint="check the name, the region and your AWS access")


def _aws_error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None
