"""`make aws-emulated`: the whole stack applied to a moto server, the pipeline run the way the deployed
jobs run it, then destroyed (docs/aws.md, "Proven offline").

One moto server and one `terraform apply` for the module; the tests run in file order and the last
one destroys. Skipped, saying why, where Terraform or its provider mirror is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.support import NOW, lake_hashes
from tests.integration.aws.support import FAKE_CREDENTIALS, REGION, Terraform, missing_terraform, moto_server, wait_for

from geckolake.deploy import states
from geckolake.simulator import SimulatorConfig, running_simulator

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(missing_terraform() is not None, reason=str(missing_terraform())),
]

SECRET = f"CG-emulated-{uuid.uuid4().hex}"
# A small pipeline (same for the cloud run and the local one it is compared with).
SIZES = {
    "GECKOLAKE_COINS": "40",
    "GECKOLAKE_HISTORY_COINS": "3",
    "GECKOLAKE_HISTORY_DAYS": "90",
    "GECKOLAKE_ANALYTICS": json.dumps({"forecast_coins": 2, "forecast_models": ["naive"], "backtest_folds": 1}),
    "GECKOLAKE_RATE_PER_MIN": "60000",
    "GECKOLAKE_CONCURRENCY": "8",
}


@dataclass
class Stack:
    url: str
    tf: Terraform
    out: dict[str, Any]
    tmp: Path
    sim_url: str
    queue_url: str
    job_logs: list[str]
    local_run: Future[tuple[Path, list[subprocess.CompletedProcess[str]]]] | None = None

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service, endpoint_url=self.url, region_name=REGION,
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip

    def tf_vars(self) -> list[str]:
        return [
            f"-var=aws_endpoint_url={self.url}", f"-var=region={REGION}", "-var=force_destroy=true",
            "-var=coingecko_plan=pro", "-input=false",
        ]  # fmt: skip

    def job_env(self, **extra: str) -> dict[str, str]:
        """A deployed job's process environment, less what Glue passes as parameters: the AWS chain
        (moto's endpoint standing in for AWS), the simulator standing in for CoinGecko."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GECKOLAKE_", "COINGECKO_", "AWS_"))}
        env.update(FAKE_CREDENTIALS, AWS_ENDPOINT_URL=self.url, COINGECKO_BASE_URL=self.sim_url)
        env.update(SIZES, GECKOLAKE_AS_OF=NOW.isoformat(), NO_COLOR="1")
        env.update(extra)
        return env

    def messages(self) -> list[dict[str, Any]]:
        sqs = self.client("sqs")
        got = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def _local_run(sim_url: str, lake: Path) -> tuple[Path, list[subprocess.CompletedProcess[str]]]:
    """The same pipeline on a local lake with the CLI (run, forecast, check), for comparison."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GECKOLAKE_", "COINGECKO_", "AWS_"))}
    env.update(SIZES, GECKOLAKE_AS_OF=NOW.isoformat(), NO_COLOR="1", COINGECKO_BASE_URL=sim_url)
    env.update(GECKOLAKE_LAKE=str(lake), GECKOLAKE_PLAN="pro", COINGECKO_PRO_API_KEY=SECRET)
    geckolake = str(Path(sys.executable).parent / "geckolake")
    procs = []
    for command in ("run", "forecast", "check"):
        procs.append(subprocess.run([geckolake, command], env=env, capture_output=True, text=True, timeout=300))
    return lake, procs


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("aws")
    sim = SimulatorConfig(port=0, coins=200, seed=7, plan="pro", now=NOW, api_key=SECRET)
    with moto_server() as url, running_simulator(sim) as sim_url:
        tf = Terraform.copy_of_module(tmp, FAKE_CREDENTIALS)
        s = Stack(url, tf, {}, tmp, sim_url, "", [])
        # The local run it is compared with needs no AWS: it runs while Terraform waits on AWS.
        pool = ThreadPoolExecutor(1)
        s.local_run = pool.submit(_local_run, sim_url, tmp / "local-lake")
        tf("init", "-input=false")
        tf("apply", "-auto-approve", *s.tf_vars(), timeout=600)
        s.out = {k: v["value"] for k, v in json.loads(tf("output", "-json").stdout).items()}
        # The documented way to set the key (docs/aws.md): outside Terraform.
        s.client("ssm").put_parameter(
            Name=s.out["api_key_parameter"], Value=SECRET, Type="SecureString", Overwrite=True
        )
        sqs = s.client("sqs")
        s.queue_url = sqs.create_queue(QueueName="alerts-subscriber")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=s.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sub = s.client("sns").subscribe(TopicArn=s.out["alerts_topic_arn"], Protocol="sqs", Endpoint=queue_arn)
        try:
            yield s
        finally:
            pool.shutdown(wait=True)
            s.client("sns").unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
            sqs.delete_queue(QueueUrl=s.queue_url)
            if (tmp / "aws" / "terraform.tfstate").exists() and "destroyed" not in s.job_logs:
                for bucket in ("lake_bucket", "artifacts_bucket", "athena_results_bucket"):
                    empty_bucket(s, s.out[bucket])
                tf("destroy", "-auto-approve", *s.tf_vars(), check=False, timeout=600)


def test_the_buckets_are_sse_kms_with_the_stack_key(stack: Stack) -> None:
    s3 = stack.client("s3")
    for bucket in (stack.out["lake_bucket"], stack.out["artifacts_bucket"], stack.out["athena_results_bucket"]):
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": stack.out["kms_key_arn"],
        }  # fmt: skip
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values())
    assert stack.client("kms").get_key_rotation_status(KeyId=stack.out["kms_key_arn"])["KeyRotationEnabled"]


def test_the_key_parameter_is_a_securestring_under_the_stack_key(stack: Stack) -> None:
    (param,) = stack.client("ssm").describe_parameters()["Parameters"]
    assert (param["Name"], param["Type"], param["KeyId"]) == (
        stack.out["api_key_parameter"], "SecureString", stack.out["kms_key_arn"],
    )  # fmt: skip


def test_the_deployed_state_machine_has_retry_and_catch_on_every_task(stack: Stack) -> None:
    sfn = stack.client("stepfunctions")
    doc = json.loads(sfn.describe_state_machine(stateMachineArn=stack.out["state_machine_arn"])["definition"])
    tasks = states.tasks(doc)
    assert {t["Parameters"].get("JobName") for t in tasks.values()} >= set(
        stack.out["glue_jobs"][j] for j in ("run", "forecast", "check")
    )
    assert all(t["Retry"] and t["Catch"] for t in tasks.values())
    assert "${" not in json.dumps(doc)


def test_the_schedules_alarms_dashboard_and_athena_workgroup_exist(stack: Stack) -> None:
    scheduler = stack.client("scheduler")
    names = {s["Name"] for s in scheduler.list_schedules(GroupName=stack.out["schedule_group"])["Schedules"]}
    assert names == set(stack.out["schedules"]) and len(names) == 5
    weekly = scheduler.get_schedule(Name="geckolake-maintenance", GroupName=stack.out["schedule_group"])
    assert weekly["ScheduleExpression"] == "cron(0 19 ? * FRI *)"
    alarms = {a["AlarmName"] for a in stack.client("cloudwatch").describe_alarms(MaxRecords=100)["MetricAlarms"]}
    assert alarms == set(stack.out["alarms"]) and len(alarms) == 18
    dashboards = stack.client("cloudwatch").list_dashboards()["DashboardEntries"]
    assert [d["DashboardName"] for d in dashboards] == [stack.out["dashboard"]]
    body = json.loads(stack.client("cloudwatch").get_dashboard(DashboardName=stack.out["dashboard"])["DashboardBody"])
    titles = {w["properties"]["title"] for w in body["widgets"]}
    assert {"Job runs", "API calls and 429s", "Rows written", "Data-quality failures"} <= titles
    config = stack.client("athena").get_work_group(WorkGroup=stack.out["athena_workgroup"])["WorkGroup"][
        "Configuration"
    ]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["ResultConfiguration"]["EncryptionConfiguration"] == {
        "EncryptionOption": "SSE_KMS", "KmsKey": stack.out["kms_key_arn"],
    }  # fmt: skip
    assert config["BytesScannedCutoffPerQuery"] == 1073741824


def _execute(stack: Stack, name: str, definition: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run ``definition`` (filled with the deployed jobs and topic) in moto's interpreter under the
    deployed role; returns the finished execution and the alerts it published."""
    sfn = stack.client("stepfunctions")
    values = {"alerts_topic_arn": stack.out["alerts_topic_arn"]}
    values.update({f"job_{job}": glue_name for job, glue_name in stack.out["glue_jobs"].items()})
    arn = sfn.create_state_machine(
        name=name, definition=states.fill(states.render(definition), values), roleArn=stack.out["states_role_arn"]
    )["stateMachineArn"]
    try:
        run = sfn.start_execution(stateMachineArn=arn)["executionArn"]
        done = wait_for(
            lambda: (d := sfn.describe_execution(executionArn=run))["status"] != "RUNNING" and d, timeout=90
        )
        assert done, "the execution did not finish"
        messages = wait_for(stack.messages, timeout=10)
        return done, messages
    finally:
        sfn.delete_state_machine(stateMachineArn=arn)


def test_the_pipeline_graph_runs_in_moto_and_notifies_success(stack: Stack) -> None:
    # moto's glue:startJobRun.sync always fails, so the happy path starts the jobs without waiting.
    done, messages = _execute(stack, "emulated-ok", states.definition(sync=False, interval=1))
    assert done["status"] == "SUCCEEDED"
    assert [m["Subject"] for m in messages] == ["[geckolake info] daily pipeline succeeded"]
    glue = stack.client("glue")
    for job in ("run", "forecast", "check"):
        assert glue.get_job_runs(JobName=stack.out["glue_jobs"][job])["JobRuns"], f"{job} was not started"


def test_a_failing_task_is_caught_notified_and_failed(stack: Stack) -> None:
    # moto's glue:startJobRun.sync fails every run (a States.Runtime error inside moto): the Catch path.
    done, messages = _execute(stack, "emulated-failing", states.definition(sync=True, interval=1))
    assert (done["status"], done["error"]) == ("FAILED", "geckolake.run_failed")
    assert [m["Subject"] for m in messages] == ["[geckolake critical] daily pipeline failed: Run"]
    assert "failed at Run" in messages[0]["Message"]


def _glue_job(stack: Stack, job: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """Run a deployed Glue job as Glue would: its script from the artifacts bucket, its parameters."""
    glue_name = stack.out["glue_jobs"][job]
    definition = stack.client("glue").get_job(JobName=glue_name)["Job"]
    bucket, key = definition["Command"]["ScriptLocation"].removeprefix("s3://").split("/", 1)
    script = stack.tmp / f"glue_entry-{job}.py"  # one per job: forecast and check run at once
    script.write_bytes(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    argv = ["--JOB_ID", "j_emulated", "--JOB_RUN_ID", "jr_emulated", "--JOB_NAME", glue_name]
    for name, value in definition["DefaultArguments"].items():
        argv += [name, value]
    proc = subprocess.run(
        [sys.executable, str(script), *argv],
        env=stack.job_env(**extra_env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    stack.job_logs += [proc.stdout, proc.stderr]
    return proc


def _lambda_job(stack: Stack, job: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """Run a deployed Lambda job as Lambda would: its handler, its function's environment, its event."""
    function = stack.client("lambda").get_function_configuration(FunctionName=stack.out["lambda_jobs"][job])
    assert function["ImageConfigResponse"]["ImageConfig"]["Command"] == ["geckolake.deploy.entry.handler"]
    env = {**stack.job_env(), **function["Environment"]["Variables"], **extra_env, "HOME": str(stack.tmp)}
    code = (
        "import json, sys; from geckolake.deploy.entry import handler; "
        "print(json.dumps(handler(json.loads(sys.argv[1]))))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps({"job": job})], env=env, capture_output=True, text=True, timeout=300
    )
    stack.job_logs += [proc.stdout, proc.stderr]
    return proc


def test_the_deployed_jobs_run_the_pipeline_into_the_cloud_lake_like_a_local_run(stack: Stack) -> None:
    run = _glue_job(stack, "run")
    assert run.returncode == 0, f"run:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    # Forecast ∥ Check, as the state machine runs them: only the forecast takes the writer lock.
    with ThreadPoolExecutor(2) as pool:
        both = ("forecast", "check")
        parallel = dict(zip(both, pool.map(lambda job: _glue_job(stack, job), both), strict=True))
    for job, proc in parallel.items():
        assert proc.returncode == 0, f"{job}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        assert f"geckolake.deploy.entry: {job}: " in proc.stdout, f"{job} logged no outcome:\n{proc.stdout[-3000:]}"
    lake = stack.out["lake_uri"]
    objects = stack.client("s3").list_objects_v2(Bucket=stack.out["lake_bucket"])["Contents"]
    head = stack.client("s3").head_object(Bucket=stack.out["lake_bucket"], Key=objects[0]["Key"])
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", stack.out["kms_key_arn"])
    glue_tables = stack.client("glue").get_tables(DatabaseName=stack.out["glue_databases"]["gold"])["TableList"]
    assert glue_tables and all(t["Parameters"]["table_type"] == "ICEBERG" for t in glue_tables)

    assert stack.local_run is not None
    local, local_procs = stack.local_run.result(timeout=300)
    for proc in local_procs:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    with pytest.MonkeyPatch.context() as mp:
        for k, v in {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": stack.url}.items():
            mp.setenv(k, v)
        cloud = lake_hashes(lake)  # type: ignore[arg-type]
        local_hashes = lake_hashes(local)
        differing = sorted(t for t in cloud.keys() | local_hashes.keys() if cloud.get(t) != local_hashes.get(t))
        detail = {t: _row_difference(lake, local, t) for t in differing}
    logs = {job: proc.stdout[-1500:] + proc.stderr[-1500:] for job, proc in parallel.items()}
    assert not differing, f"silver/gold differ from the local run's: {detail}\n{logs}"


def _row_difference(cloud: str, local: Path, table: str) -> str:
    """How two lakes' copies of ``table`` differ (rows only in each, a few shown)."""
    from geckolake.lake.catalog import open_lake
    from geckolake.lake.query import run_query

    rows = []
    for where in (cloud, local):
        cols, got = run_query(open_lake(where, read_only=True), f"SELECT * FROM {table}")
        keep = [i for i, c in enumerate(cols) if not c.startswith("_")]
        rows.append({tuple(r[i] for i in keep) for r in got})
    only_cloud, only_local = rows[0] - rows[1], rows[1] - rows[0]
    return f"{len(only_cloud)} rows only in the cloud lake {sorted(only_cloud, key=repr)[:2]}, " + (
        f"{len(only_local)} only in the local one {sorted(only_local, key=repr)[:2]}"
    )


def test_metrics_are_published_and_alerts_reach_the_topic(stack: Stack) -> None:
    metrics = stack.client("cloudwatch").list_metrics(Namespace=stack.out["metrics_namespace"])["Metrics"]
    names = {(m["MetricName"], tuple(d["Value"] for d in m.get("Dimensions", []))) for m in metrics}
    assert {("JobSucceeded", ("run",)), ("ApiCalls", ("run",)), ("RowsWritten", ("run",))} <= names
    assert {("DQChecksFailing", ()), ("TablesOverFreshnessSla", ())} <= names
    stack.messages()  # drain
    # Three days on, the Lambda watch job finds the tables stale and alerts through geckolake's SnsNotifier.
    later = (NOW + timedelta(days=3)).isoformat()
    proc = _lambda_job(stack, "watch", GECKOLAKE_AS_OF=later)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    messages = wait_for(stack.messages, timeout=10)
    assert messages, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert all(m["TopicArn"] == stack.out["alerts_topic_arn"] for m in messages)
    assert any("stale data" in m["Message"] for m in messages), messages
    watched = stack.client("cloudwatch").list_metrics(
        Namespace=stack.out["metrics_namespace"], MetricName="JobSucceeded"
    )
    assert ["watch"] in [[d["Value"] for d in m["Dimensions"]] for m in watched["Metrics"]]


def test_a_second_plan_shows_no_changes(stack: Stack) -> None:
    proc = stack.tf("plan", "-detailed-exitcode", *stack.tf_vars(), check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_no_secret_in_state_plan_logs_or_lake(stack: Stack) -> None:
    state = stack.tf("state", "pull").stdout
    assert state and SECRET not in state
    assert all(SECRET not in text for text in stack.tf.log)
    assert all(SECRET not in text for text in stack.job_logs)
    s3 = stack.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.out["lake_bucket"]):
        for obj in page.get("Contents", []):
            assert SECRET.encode() not in s3.get_object(Bucket=stack.out["lake_bucket"], Key=obj["Key"])["Body"].read()


def empty_bucket(stack: Stack, bucket: str) -> None:
    """Delete every version and delete marker one by one (moto 5.2 crashes when Terraform's
    force_destroy empties a bucket whose versioning it has just suspended)."""
    s3 = stack.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])


def test_destroy_leaves_nothing(stack: Stack) -> None:
    for bucket in (stack.out["lake_bucket"], stack.out["artifacts_bucket"], stack.out["athena_results_bucket"]):
        empty_bucket(stack, bucket)
    stack.tf("destroy", "-auto-approve", *stack.tf_vars(), timeout=600)
    stack.job_logs.append("destroyed")
    c = stack.client
    assert c("s3").list_buckets()["Buckets"] == []
    assert c("glue").get_databases()["DatabaseList"] == []
    assert c("glue").get_jobs()["Jobs"] == []
    assert c("stepfunctions").list_state_machines()["stateMachines"] == []
    assert c("scheduler").list_schedules()["Schedules"] == []
    assert c("scheduler").list_schedule_groups()["ScheduleGroups"] in ([], [{"Name": "default"}]) or all(
        g["Name"] == "default" for g in c("scheduler").list_schedule_groups()["ScheduleGroups"]
    )
    assert c("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert c("cloudwatch").list_dashboards()["DashboardEntries"] == []
    assert c("ssm").describe_parameters()["Parameters"] == []
    assert c("sns").list_topics()["Topics"] == []
    assert c("lambda").list_functions()["Functions"] == []
    assert c("ecr").describe_repositories()["repositories"] == []
    assert c("iam").list_roles()["Roles"] == []
    assert c("logs").describe_log_groups()["logGroups"] == []
    assert [q for q in c("sqs").list_queues().get("QueueUrls", []) if "alerts-subscriber" not in q] == []
    assert [w["Name"] for w in c("athena").list_work_groups()["WorkGroups"]] == ["primary"]
    keys = c("kms").list_keys()["Keys"]
    assert all(c("kms").describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion" for k in keys)
