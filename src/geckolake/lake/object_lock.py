"""A lock object on S3: conditional PUTs and a renewed lease, so writers on any host exclude each other.

Taking it: ``PUT <lake>/locks/<role>.lock`` with ``If-None-Match: *`` — S3 lets exactly one such PUT
create the object. The body names the holder (host, pid, a random token) and when its lease ends.
Holding it: a daemon thread renews the lease every ``lease / 4`` with ``If-Match: <our ETag>``; if
that fails, someone took the lock over after our lease ran out (we were stalled for longer than the
lease), which is logged loudly. Taking over a dead holder's lock: once its lease has ended, a
``PUT If-Match: <its ETag>`` replaces it — only one contender's PUT can match. Releasing: delete the
object if it is still ours.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from geckolake.errors import LakeError, LakeLocked
from geckolake.lake.aws import aws_access

if TYPE_CHECKING:
    from geckolake.lake.location import LakeSpec

log = logging.getLogger(__name__)

LEASE_S = 300.0


@contextmanager
def object_lock(spec: LakeSpec, key: str, held: str, hint: str, lease_s: float = LEASE_S) -> Iterator[None]:
    """Hold the lock object ``<lake>/<key>`` for the ``with`` block.

    Raises:
        LakeLocked: another live holder has it (host and pid in the message).
        LakeError: the bucket cannot be reached or written.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    client = aws_access(spec).s3_client()
    bucket, _, prefix = spec.location.removeprefix("s3://").partition("/")
    full_key = f"{prefix}/{key}" if prefix else key
    token = uuid.uuid4().hex
    try:
        etag = _acquire(client, bucket, full_key, token, lease_s, held, hint)
    except ClientError as e:
        raise LakeError(
            f"cannot take the lock s3://{bucket}/{full_key}: {e.response.get('Error', {}).get('Code', e)}",
            hint="check that the bucket exists and the AWS identity may write under the lake's prefix",
        ) from e
    except BotoCoreError as e:
        raise LakeError(
            f"cannot take the lock s3://{bucket}/{full_key}: {e}",
            hint="check AWS_ENDPOINT_URL and the network",
        ) from e
    stop = threading.Event()
    state = {"etag": etag}
    renewer = threading.Thread(
        target=_renew, args=(client, bucket, full_key, token, lease_s, state, stop), daemon=True, name="lake-lock"
    )
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join(timeout=5)
        _release(client, bucket, full_key, state["etag"])


def _body(token: str, lease_s: float) -> bytes:
    return json.dumps(
        {"host": socket.gethostname(), "pid": os.getpid(), "token": token, "expires": time.time() + lease_s}
    ).encode()


def _acquire(client: Any, bucket: str, key: str, token: str, lease_s: float, held: str, hint: str) -> str:
    from botocore.exceptions import ClientError

    for _ in range(3):  # the holder may release or expire between our calls
        try:
            return str(client.put_object(Bucket=bucket, Key=key, Body=_body(token, lease_s), IfNoneMatch="*")["ETag"])
        except ClientError as e:
            if _code(e) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
        try:
            current = client.get_object(Bucket=bucket, Key=key)
        except ClientError as e:
            if _code(e) in ("NoSuchKey", "404"):
                continue  # released meanwhile: try again
            raise
        holder = _parse(current["Body"].read())
        if holder.get("expires", 0) > time.time():
            who = f"{holder.get('host', '?')} pid {holder.get('pid', '?')}"
            raise LakeLocked(f"{held} ({who})", hint=hint)
        try:  # the holder's lease ran out: take over, unless someone else just did
            etag = client.put_object(Bucket=bucket, Key=key, Body=_body(token, lease_s), IfMatch=current["ETag"])
            log.warning("took over the lock s3://%s/%s: its holder's lease had run out", bucket, key)
            return str(etag["ETag"])
        except ClientError as e:
            if _code(e) not in ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"):
                raise
    raise LakeLocked(held, hint=hint)


def _renew(
    client: Any, bucket: str, key: str, token: str, lease_s: float, state: dict[str, str], stop: threading.Event
) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    while not stop.wait(lease_s / 4):
        try:
            state["etag"] = str(
                client.put_object(Bucket=bucket, Key=key, Body=_body(token, lease_s), IfMatch=state["etag"])["ETag"]
            )
        except ClientError as e:
            if _code(e) in ("PreconditionFailed", "NoSuchKey"):
                log.error("lost the lock s3://%s/%s: another writer took it over after our lease ran out", bucket, key)
                return
            log.warning("could not renew the lock s3://%s/%s: %s", bucket, key, _code(e))
        except BotoCoreError as e:
            log.warning("could not renew the lock s3://%s/%s: %s", bucket, key, e)


def _release(client: Any, bucket: str, key: str, etag: str) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        current = client.head_object(Bucket=bucket, Key=key)
        if current["ETag"] == etag:
            client.delete_object(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError) as e:  # the lease runs out by itself
        log.warning("could not release the lock s3://%s/%s: %s", bucket, key, e)


def _code(e: Exception) -> str:
    return str(getattr(e, "response", {}).get("Error", {}).get("Code", ""))


def _parse(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
        return value if isinstance(value, dict) else {}
    except ValueError:
        return {}
