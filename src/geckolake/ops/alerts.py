"""Alert rules, de-duplication and cool-down (state in ``ops.alerts_sent``), delivery to every channel.

Rules: ``run_failed`` (a run raised), ``check_failed`` (error-level data-quality failures; gated
runs say so), ``freshness`` (a table older than its SLA), ``anomaly`` (market anomalies),
``budget`` (projected API credits beyond the plan). An alert's ``key`` names *what* is wrong
(e.g. the set of failing checks), so the same problem seen by repeated runs is sent once per
cool-down. Alerts are built from our own messages and scrubbed of every known secret before
they leave.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pyarrow as pa

from geckolake.ops.notifiers import Alert, Notifier, NotifyError, notifiers_from

if TYPE_CHECKING:
    from geckolake.config import Settings
    from geckolake.lake.catalog import Lake
    from geckolake.quality.anomalies import Anomaly
    from geckolake.quality.runner import CheckReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    alert: Alert
    sent: bool  # False: suppressed (rule off, duplicate or cooling down) or every channel failed
    channels: dict[str, str]  # channel → "ok" | error
    reason: str = ""


def _secrets(settings: Settings) -> list[str | None]:
    a = settings.alerts
    return [
        settings.pro_api_key.get_secret_value() if settings.pro_api_key else None,
        settings.demo_api_key.get_secret_value() if settings.demo_api_key else None,
        a.webhook_url.get_secret_value() if a.webhook_url else None,
        a.smtp_password.get_secret_value() if a.smtp_password else None,
    ]


def scrub(alert: Alert, secrets: Sequence[str | None]) -> Alert:
    """``alert`` with every secret masked (defence in depth: alerts are built without secrets)."""
    from geckolake.api.redaction import redact

    return Alert(
        alert.rule, alert.key, alert.severity, redact(alert.title, secrets), redact(alert.text, secrets),
        alert.run_id, {k: redact(v, secrets) for k, v in alert.fields.items()},
    )  # fmt: skip


class AlertDispatcher:
    """Sends alerts to the configured channels, at most once per key per cool-down."""

    def __init__(
        self,
        settings: Settings,
        lake: Lake | None,
        *,
        notifiers: Sequence[Notifier] | None = None,
        clock: Callable[[], datetime] | None = None,
        record: bool = True,
    ) -> None:
        self.settings = settings
        self.lake = lake
        self.notifiers = list(notifiers) if notifiers is not None else notifiers_from(settings)
        self.clock = clock or settings.now
        self.record = record and lake is not None

    def _last_sent(self) -> dict[str, datetime]:
        if self.lake is None:
            return {}
        rows = self.lake.read("ops.alerts_sent", columns=("alert_key", "sent_at", "outcome")).to_pylist()
        out: dict[str, datetime] = {}
        for r in rows:
            if r["outcome"] == "delivered" and (r["alert_key"] not in out or r["sent_at"] > out[r["alert_key"]]):
                out[r["alert_key"]] = r["sent_at"]
        return out

    def dispatch(self, alerts: Sequence[Alert], *, force: bool = False) -> list[Delivery]:
        """Deliver each alert unless its rule is off or it was sent within the cool-down (``force``: always).

        Never raises for a channel failure: failures are logged, returned and recorded.
        """
        if not alerts:
            return []
        rules = set(self.settings.alerts.rules)
        cooldown = timedelta(minutes=self.settings.alerts.cooldown_minutes)
        now = self.clock()
        last = self._last_sent() if not force else {}
        seen: set[str] = set()
        out: list[Delivery] = []
        rows = []
        for raw in alerts:
            alert = scrub(raw, _secrets(self.settings))
            if not force and alert.rule not in rules:
                out.append(Delivery(alert, False, {}, "rule disabled"))
                continue
            if alert.key in seen or (not force and alert.key in last and now - last[alert.key] < cooldown):
                out.append(Delivery(alert, False, {}, "duplicate within cool-down"))
                continue
            seen.add(alert.key)
            channels: dict[str, str] = {}
            for n in self.notifiers:
                try:
                    n.send(alert)
                    channels[n.name] = "ok"
                except NotifyError as e:
                    log.warning("alert %r not delivered by %s: %s", alert.title, n.name, e)
                    channels[n.name] = str(e)
            sent = any(v == "ok" for v in channels.values())
            out.append(Delivery(alert, sent, channels, "" if sent else "no channel delivered it"))
            rows.append(
                {
                    "alert_key": alert.key,
                    "rule": alert.rule,
                    "severity": alert.severity,
                    "title": alert.title,
                    "sent_at": now,
                    "channels": ",".join(f"{k}={'ok' if v == 'ok' else 'failed'}" for k, v in channels.items()),
                    "outcome": "delivered" if sent else "failed",
                    "run_id": alert.run_id,
                }
            )
        if self.record and rows and self.lake is not None:
            self.lake.append("ops.alerts_sent", pa.Table.from_pylist(rows))
        return out


def _digest(parts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:16]


# --- rules --------------------------------------------------------------------------------------


def run_failed(command: str, run_id: str, error: str) -> Alert:
    return Alert(
        "run_failed", f"run_failed:{command}:{_digest([error])}", "critical",
        f"geckolake {command} failed", error.splitlines()[0] if error else "unknown error", run_id,
        {"run": run_id, "command": command},
    )  # fmt: skip


def check_failed(report: CheckReport, run_id: str | None, *, gated: bool) -> Alert | None:
    bad = [r for r in report.failures if r.severity == "error" and r.kind != "freshness"]
    if not bad:
        return None
    labels = [r.label for r in bad]
    title = "gold not published: data-quality checks failed" if gated else "data-quality checks failed"
    text = "\n".join(f"• {r.tagged}: {r.detail}" for r in bad[:20])
    fields = {"run": run_id or "-", "failing checks": str(len(bad))}
    if gated:
        fields["gold"] = "kept at its last good snapshot"
    return Alert("check_failed", f"check_failed:{_digest(labels)}", "critical", title, text, run_id, fields)


def freshness(report: CheckReport) -> Alert | None:
    bad = [r for r in report.failures if r.kind == "freshness"]
    if not bad:
        return None
    text = "\n".join(f"• {r.table}: {r.detail} {r.sample_json}" for r in bad)
    severity = "critical" if any(r.severity == "error" for r in bad) else "warning"
    key = f"freshness:{_digest([r.table for r in bad])}"
    return Alert("freshness", key, severity, f"stale data: {', '.join(r.table for r in bad)}", text)


def anomalies(found: Sequence[Anomaly], run_id: str | None) -> Alert | None:
    if not found:
        return None
    parts = sorted({f"{a.kind}:{a.coin_id}" for a in found})
    text = "\n".join(f"• {a.kind} {a.coin_id} ({a.vs_currency}): {a.detail}" for a in found[:20])
    more = f"\n… and {len(found) - 20} more" if len(found) > 20 else ""
    return Alert(
        "anomaly", f"anomaly:{_digest(parts)}", "warning", f"{len(found)} market anomalies", text + more, run_id,
        {"run": run_id or "-"},
    )  # fmt: skip


def budget(month: str, used: int, projected: int, credits: int) -> Alert:
    return Alert(
        "budget", f"budget:{month}", "critical", "API credit budget: scheduled calls stopped",
        f"{used:,} credits used in {month}; projected {projected:,} > budget {credits:,}.",
        None, {"month": month},
    )  # fmt: skip


def test_alert() -> Alert:
    return Alert("test", "test", "info", "geckolake test alert", "If you can read this, alerting works.")
