"""Alert de-duplication, cool-down, rules and secret scrubbing (channels are in-memory here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from geckolake.config import Settings
from geckolake.lake.catalog import open_lake
from geckolake.ops import alerts
from geckolake.ops.alerts import AlertDispatcher
from geckolake.ops.notifiers import Alert, NotifyError, WebhookNotifier

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class Inbox:
    name = "inbox"

    def __init__(self, fail: bool = False) -> None:
        self.got: list[Alert] = []
        self.fail = fail

    def send(self, alert: Alert) -> None:
        if self.fail:
            raise NotifyError("down")
        self.got.append(alert)


def test_dedup_cooldown_and_recorded_state(tmp_path: Path) -> None:
    lake = open_lake(tmp_path / "lake")
    settings = Settings(lake=tmp_path / "lake", alerts={"cooldown_minutes": 30})
    now = [T0]
    inbox = Inbox()
    d = AlertDispatcher(settings, lake, notifiers=[inbox], clock=lambda: now[0])
    failure = alerts.run_failed("run", "r1", "FetchFailed: markets")
    assert [x.sent for x in d.dispatch([failure, failure])] == [True, False]
    now[0] = T0 + timedelta(minutes=10)
    assert not d.dispatch([alerts.run_failed("run", "r2", "FetchFailed: markets")])[0].sent  # same problem
    assert d.dispatch([alerts.run_failed("run", "r3", "another error")])[0].sent  # a different one
    now[0] = T0 + timedelta(minutes=31)
    assert d.dispatch([failure])[0].sent  # cool-down over
    assert len(inbox.got) == 3
    rows = lake.read("ops.alerts_sent").to_pylist()
    assert len(rows) == 3 and {r["outcome"] for r in rows} == {"delivered"}


def test_failed_channel_is_recorded_not_raised_and_disabled_rules_are_skipped(tmp_path: Path) -> None:
    lake = open_lake(tmp_path / "lake")
    settings = Settings(lake=tmp_path / "lake", alerts={"rules": ["run_failed"]})
    d = AlertDispatcher(settings, lake, notifiers=[Inbox(fail=True)], clock=lambda: T0)
    (out,) = d.dispatch([alerts.run_failed("run", "r1", "x")])
    assert (not out.sent and out.channels == {"inbox": "down — "}) or out.channels["inbox"].startswith("down")
    assert lake.read("ops.alerts_sent").to_pylist()[0]["outcome"] == "failed"
    assert d.dispatch([alerts.budget("2026-11", 1, 2, 1)])[0].reason == "rule disabled"


def test_secrets_are_scrubbed(tmp_path: Path) -> None:
    key = "CG-supersecretkey123"
    settings = Settings(lake=tmp_path / "lake", pro_api_key=key, alerts={"webhook_url": "http://h/hook/tok3n-abcdef"})
    inbox = Inbox()
    d = AlertDispatcher(settings, None, notifiers=[inbox], clock=lambda: T0)
    d.dispatch([alerts.run_failed("run", "r1", f"401 for key {key} posting to http://h/hook/tok3n-abcdef")])
    text = inbox.got[0].plain()
    assert key not in text and "tok3n-abcdef" not in text and "***" in text


def test_webhook_payload_is_slack_compatible() -> None:
    payload = WebhookNotifier("http://unused").payload(alerts.run_failed("run", "r1", "boom"))
    assert isinstance(payload["text"], str) and "boom" in payload["text"]
    assert payload["blocks"][0]["type"] == "section"
