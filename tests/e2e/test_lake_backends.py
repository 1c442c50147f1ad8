"""The same CLI session on three lake backends — a local folder (SQLite catalog), S3 + Glue (a moto
server, bucket encrypted with SSE-KMS) and a PostgreSQL catalog — from the same simulator seed and
``--as-of``: every command succeeds on each, and silver and gold hold the same content on all three.

One moto server, one PostgreSQL cluster and one session per backend for the whole module.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.e2e.support import NOW, Cli, base_env, lake_hashes
from tests.servers import FAKE_AWS, create_database, moto_server, postgres_bin, postgres_server

from geckolake.lake.location import LakeSpec
from geckolake.simulator import SimulatorConfig, running_simulator

pytestmark = pytest.mark.slow

SMALL = ("--coins", "60", "--history-coins", "4", "--history-days", "40")
SESSION: list[tuple[str, ...]] = [
    ("run", *SMALL),
    ("run", *SMALL),
    ("replay",),
    ("forecast",),
    ("prices",),
    ("check",),
    ("compact",),
    ("tables", "--format", "json"),
    ("sql", "SELECT coin_id, date, close FROM gold.coin_daily ORDER BY coin_id, date LIMIT 5", "--format", "json"),
    ("status", "--format", "json"),
]
BUCKET = "geckolake-test-lake"


@dataclass
class Session:
    spec: LakeSpec
    outputs: dict[str, subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import boto3

    with pytest.MonkeyPatch.context() as mp, moto_server() as endpoint:
        for k, v in FAKE_AWS.items():
            mp.setenv(k, v)
        kms = boto3.client("kms", endpoint_url=endpoint)
        key = kms.create_key(Description="lake key")["KeyMetadata"]["KeyId"]
        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_encryption(
            Bucket=BUCKET,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]
            },
        )
        yield endpoint


@pytest.fixture(scope="module")
def postgres_uri() -> Iterator[str]:
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run installs it)")
    with postgres_server() as pg:
        yield create_database(pg, "lakes")


def _session(lake_dir: Path, env_extra: dict[str, str], spec: LakeSpec) -> Session:
    with running_simulator(SimulatorConfig(port=0, coins=300, seed=11, plan="unlimited", now=NOW)) as url:
        env = base_env(lake_dir, url) | env_extra
        cli = Cli(lake_dir, url, env)
        outputs = {}
        for args in SESSION:
            outputs[" ".join(args[:1]) + (f"#{len(outputs)}" if args[0] == "run" else "")] = cli(*args, timeout=300)
    return Session(spec, outputs)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory, aws: str, postgres_uri: str) -> dict[str, Session]:
    root = tmp_path_factory.mktemp("backends")
    local = root / "local"
    pg_lake = root / "pg-lake"
    s3_env = {**FAKE_AWS, "AWS_ENDPOINT_URL": aws, "GECKOLAKE_LAKE": f"s3://{BUCKET}/lake"}
    pg_env = {"GECKOLAKE_CATALOG": "sql", "GECKOLAKE_CATALOG_URI": postgres_uri}
    return {
        "local": _session(local, {}, LakeSpec(str(local))),
        "s3+glue": _session(
            root / "unused",
            s3_env,
            LakeSpec(f"s3://{BUCKET}/lake", catalog="glue", namespace_prefix="geckolake_", aws_endpoint_url=aws),
        ),
        "postgres": _session(pg_lake, pg_env, LakeSpec(str(pg_lake), catalog="sql", catalog_uri=postgres_uri)),
    }


def test_every_command_succeeds_on_every_backend(sessions: dict[str, Session]) -> None:
    for backend, session in sessions.items():
        for command, proc in session.outputs.items():
            assert proc.returncode == 0, f"{backend}: geckolake {command}: {proc.stdout}\n{proc.stderr}"
            assert "Traceback" not in proc.stderr, f"{backend}: {command}"


def test_silver_and_gold_are_the_same_on_every_backend(sessions: dict[str, Session]) -> None:
    hashes = {backend: lake_hashes(s.spec) for backend, s in sessions.items()}
    assert len(hashes["local"]) >= 15
    assert any(n.startswith("gold.") for n in hashes["local"])
    for backend in ("s3+glue", "postgres"):
        differing = sorted(n for n in hashes["local"] if hashes[backend].get(n) != hashes["local"][n])
        assert not differing, f"{backend} differs from the local lake in {differing}"


def test_reads_answer_the_same_on_every_backend(sessions: dict[str, Session]) -> None:
    answers = {b: json.loads(s.outputs["sql"].stdout) for b, s in sessions.items()}
    assert answers["local"], "the gold table is empty"
    assert answers["s3+glue"] == answers["local"] == answers["postgres"]
    tables = {b: {t["table"]: t["rows"] for t in json.loads(s.outputs["tables"].stdout)} for b, s in sessions.items()}
    assert tables["s3+glue"] == tables["local"] == tables["postgres"]


def test_the_s3_lake_is_iceberg_in_glue_under_its_prefix_encrypted_with_kms(
    sessions: dict[str, Session], aws: str
) -> None:
    import boto3

    glue = boto3.client("glue", endpoint_url=aws)
    databases = {d["Name"]: d for d in glue.get_databases()["DatabaseList"]}
    for layer in ("bronze", "silver", "gold", "ops"):
        assert databases[f"geckolake_{layer}"]["Parameters"]["geckolake.lake"] == f"s3://{BUCKET}/lake"
    table = glue.get_table(DatabaseName="geckolake_gold", Name="coin_daily")["Table"]
    assert table["Parameters"]["table_type"].upper() == "ICEBERG"
    assert table["Parameters"]["metadata_location"].startswith(f"s3://{BUCKET}/lake/warehouse/gold/coin_daily/")
    s3 = boto3.client("s3", endpoint_url=aws)
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET) for o in page["Contents"]]
    assert keys and all(k.startswith(("lake/warehouse/", "lake/raw/")) for k in keys), sorted(
        {k.split("/")[1] for k in keys}
    )
    assert not any(k.startswith("lake/locks/") for k in keys), "the writer lock object was left behind"
    head = s3.head_object(Bucket=BUCKET, Key=next(k for k in keys if k.endswith(".parquet")))
    assert head["ServerSideEncryption"] == "aws:kms"
