"""A remote lake's failure modes, as a user meets them: no region, no credentials, an unreachable
endpoint, a bucket that does not exist, a Glue database another tool owns — one ``error:`` line each and
nothing written; and two writers on one S3 + Glue lake (one waits its turn or is refused, never both
at once), with the lock object's lease taken over after a crash. One moto server for the module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.support import NOW, Cli, base_env, lake_hashes
from tests.servers import FAKE_AWS, moto_server

from geckolake.errors import LakeLocked
from geckolake.lake.location import LakeSpec
from geckolake.lake.lock import writer_lock
from geckolake.simulator import SimulatorConfig, running_simulator

SMALL = ("--coins", "30", "--history-coins", "2", "--history-days", "10")
BUCKET = "failures-lake"
NO_AWS_FILES = {"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}


@pytest.fixture(scope="module")
def aws() -> Iterator[str]:
    import boto3

    with pytest.MonkeyPatch.context() as mp, moto_server() as endpoint:
        for k, v in FAKE_AWS.items():
            mp.setenv(k, v)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint


@pytest.fixture(scope="module")
def sim() -> Iterator[str]:
    with running_simulator(SimulatorConfig(port=0, coins=200, seed=5, plan="unlimited", now=NOW)) as url:
        yield url


def _cli(tmp_path: Path, sim: str, **env: str) -> Cli:
    clean = {k: v for k, v in base_env(tmp_path / "unused", sim).items() if not k.startswith("AWS_")}
    return Cli(tmp_path / "unused", sim, clean | NO_AWS_FILES | env)


def _error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    return lines[0]


def _objects(aws: str, bucket: str = BUCKET, prefix: str = "") -> list[str]:
    import boto3

    listing = boto3.client("s3", endpoint_url=aws).list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for o in listing.get("Contents", [])]


def _databases(aws: str) -> set[str]:
    import boto3

    return {d["Name"] for d in boto3.client("glue", endpoint_url=aws).get_databases()["DatabaseList"]}


def test_no_region_no_credentials(tmp_path: Path, sim: str, aws: str) -> None:
    lake = f"s3://{BUCKET}/no-region"
    keys = {k: FAKE_AWS[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    line = _error_line(_cli(tmp_path, sim, GECKOLAKE_LAKE=lake, AWS_ENDPOINT_URL=aws, **keys)("run", *SMALL))
    assert "no AWS region" in line and "AWS_REGION" in line
    line = _error_line(_cli(tmp_path, sim, GECKOLAKE_LAKE=lake, AWS_ENDPOINT_URL=aws, AWS_REGION="us-east-1")("tables"))
    assert "no AWS credentials" in line
    assert not _objects(aws, prefix="no-region")


def test_an_unreachable_endpoint_fails_in_one_line(tmp_path: Path, sim: str) -> None:
    cli = _cli(tmp_path, sim, GECKOLAKE_LAKE=f"s3://{BUCKET}/x", AWS_ENDPOINT_URL="http://127.0.0.1:9", **FAKE_AWS)
    started = time.monotonic()
    line = _error_line(cli("run", *SMALL, timeout=240))
    assert "unreachable" in line or "connect" in line.lower(), line
    assert time.monotonic() - started < 120


def test_a_bucket_that_does_not_exist(tmp_path: Path, sim: str, aws: str) -> None:
    before = _databases(aws)
    cli = _cli(tmp_path, sim, AWS_ENDPOINT_URL=aws, **FAKE_AWS)
    line = _error_line(cli("--lake", "s3://no-such-bucket/lake", "run", *SMALL))  # the flag, not the variable
    assert "no-such-bucket" in line and "bucket" in line.lower(), line
    assert _databases(aws) == before
    assert not (tmp_path / "s3:").exists()


def test_a_glue_database_another_tool_owns_is_refused(tmp_path: Path, sim: str, aws: str) -> None:
    import boto3

    glue = boto3.client("glue", endpoint_url=aws)
    glue.create_database(DatabaseInput={"Name": "theirs_gold"})
    glue.create_table(DatabaseName="theirs_gold", TableInput={"Name": "prices"})
    before = _databases(aws)
    cli = _cli(
        tmp_path, sim, GECKOLAKE_LAKE=f"s3://{BUCKET}/theirs", GECKOLAKE_GLUE_DATABASE_PREFIX="theirs_",
        AWS_ENDPOINT_URL=aws, **FAKE_AWS,
    )  # fmt: skip
    line = _error_line(cli("run", *SMALL))
    assert "theirs_gold" in line and "another tool" in line, line
    assert _databases(aws) == before
    assert not _objects(aws, prefix="theirs")


def test_two_writers_on_one_s3_lake(tmp_path: Path, sim: str, aws: str) -> None:
    env = dict(AWS_ENDPOINT_URL=aws, **FAKE_AWS)
    both = _cli(tmp_path, sim, GECKOLAKE_LAKE=f"s3://{BUCKET}/shared", **env)
    procs = [both.popen("run", *SMALL) for _ in range(2)]
    outcomes = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    for code, err in outcomes:
        assert code == 0 or (code == 1 and "another geckolake run is writing" in err and "pid" in err), err
    assert any(code == 0 for code, _ in outcomes)
    # One Glue catalog holds both lakes, so the single writer's lake gets its own database prefix.
    single = _cli(
        tmp_path, sim, GECKOLAKE_LAKE=f"s3://{BUCKET}/single", GECKOLAKE_GLUE_DATABASE_PREFIX="single_", **env
    )
    single("run", *SMALL, check=True)
    shared = LakeSpec(f"s3://{BUCKET}/shared", catalog="glue", namespace_prefix="geckolake_", aws_endpoint_url=aws)
    alone = LakeSpec(f"s3://{BUCKET}/single", catalog="glue", namespace_prefix="single_", aws_endpoint_url=aws)
    assert lake_hashes(shared) == lake_hashes(alone)


HOLDER = """
import sys, time
from geckolake.lake.location import LakeSpec
from geckolake.lake.lock import writer_lock
spec = LakeSpec(sys.argv[1], catalog="glue", namespace_prefix="geckolake_", aws_endpoint_url=sys.argv[2])
with writer_lock(spec):
    print("held", flush=True)
    time.sleep(120)
"""


def test_the_lock_names_its_holder_and_a_crashed_holders_lease_runs_out(aws: str) -> None:
    import boto3

    lake = f"s3://{BUCKET}/locked"
    spec = LakeSpec(lake, catalog="glue", namespace_prefix="geckolake_", aws_endpoint_url=aws)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, lake, aws], stdout=subprocess.PIPE, text=True, env={**os.environ, **FAKE_AWS}
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LakeLocked, match=rf"pid {holder.pid}\)"), writer_lock(spec):
            pass
        holder.kill()  # a crash: the object stays, with a lease that has not run out yet
        holder.wait()
        with pytest.raises(LakeLocked), writer_lock(spec):
            pass
        s3 = boto3.client("s3", endpoint_url=aws)
        body = json.loads(s3.get_object(Bucket=BUCKET, Key="locked/locks/writer.lock")["Body"].read())
        body["expires"] = time.time() - 1  # fast-forward past the lease
        s3.put_object(Bucket=BUCKET, Key="locked/locks/writer.lock", Body=json.dumps(body).encode())
        with writer_lock(spec):
            mine = json.loads(s3.get_object(Bucket=BUCKET, Key="locked/locks/writer.lock")["Body"].read())
            assert mine["pid"] == os.getpid()
        assert not _objects(aws, prefix="locked/locks/")
    finally:
        holder.kill()
