"""Acceptance 2: alerts reach a real HTTP listener, a real SMTP server and SNS on a moto server;
de-duplication holds over repeated failures."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.integration.ops.servers import webhook_listener

from geckolake.config import Settings
from geckolake.lake.catalog import open_lake
from geckolake.ops import alerts
from geckolake.ops.alerts import AlertDispatcher
from geckolake.ops.notifiers import notifiers_from

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SECRET = "CG-prokey-never-in-alerts"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # aiosmtpd's start-up self-check cannot use port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


@pytest.fixture
def sns(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, Any]]:
    """(endpoint, topic arn, sqs client with a subscribed queue url attribute)."""
    import boto3
    from moto.server import ThreadedMotoServer

    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():  # fmt: skip
        monkeypatch.setenv(k, v)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        sns_client = boto3.client("sns", region_name="us-east-1", endpoint_url=endpoint)
        sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint)
        topic = sns_client.create_topic(Name="geckolake-alerts")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns_client.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        sqs.queue_url = queue_url  # type: ignore[attr-defined]
        yield endpoint, topic, sqs
    finally:
        server.stop()


def _received_sqs(sqs: Any) -> list[dict[str, Any]]:
    out = []
    for _ in range(3):
        resp = sqs.receive_message(QueueUrl=sqs.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        out += [json.loads(m["Body"]) for m in resp.get("Messages", [])]
        if out:
            break
    return out


def test_three_channels_deliver_once_over_repeated_failures(
    tmp_path: Path, smtp: tuple[int, Mailbox], sns: tuple[str, str, Any]
) -> None:
    smtp_port, mailbox = smtp
    endpoint, topic, sqs = sns
    with webhook_listener() as hook:
        settings = Settings(
            lake=tmp_path / "lake", pro_api_key=SECRET, aws_region="us-east-1", aws_endpoint_url=endpoint,
            alerts={
                "webhook_url": hook.url, "smtp_host": "127.0.0.1", "smtp_port": smtp_port,
                "smtp_to": ["ops@example.org"], "sns_topic_arn": topic, "cooldown_minutes": 60,
            },
        )  # fmt: skip
        lake = open_lake(settings.lake)
        assert [n.name for n in notifiers_from(settings)] == ["webhook", "email", "sns"]
        dispatcher = AlertDispatcher(settings, lake, clock=lambda: T0)
        for i in range(3):  # the same failure, three runs in a row
            err = f"markets failed after 6 attempts (key {SECRET})"
            dispatcher.dispatch([alerts.run_failed("run", f"run-{i}", err)])
        assert len(hook.bodies) == 1
        assert "geckolake run failed" in hook.bodies[0]["text"]
        deadline = time.monotonic() + 5
        while not mailbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(mailbox.messages) == 1
        mail = mailbox.messages[0].content.decode()
        assert "Subject: [geckolake critical] geckolake run failed" in mail
        notes = _received_sqs(sqs)
        assert len(notes) == 1 and "geckolake run failed" in notes[0]["Subject"]
        everything = json.dumps(hook.bodies) + mail + json.dumps(notes)
        assert SECRET not in everything and "secret-token" not in everything
        rows = lake.read("ops.alerts_sent").to_pylist()
        assert len(rows) == 1 and rows[0]["channels"] == "webhook=ok,email=ok,sns=ok"


def test_failing_channel_does_not_stop_the_others(tmp_path: Path, smtp: tuple[int, Mailbox]) -> None:
    smtp_port, mailbox = smtp
    with webhook_listener(status=500) as hook:
        settings = Settings(
            lake=tmp_path / "lake",
            alerts={"webhook_url": hook.url, "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_to": ["a@b.c"]},
        )
        (d,) = AlertDispatcher(settings, None, clock=lambda: T0).dispatch([alerts.test_alert()], force=True)
    assert d.sent and d.channels["email"] == "ok" and "HTTP 500" in d.channels["webhook"]
    assert hook.bodies and mailbox.messages
