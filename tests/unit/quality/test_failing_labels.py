"""Failing checks read ``table.check (severity)``, errors first, in run output and alerts."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

from geckolake.ops import alerts
from geckolake.quality.runner import CheckReport, CheckResult

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def result(table: str, name: str, severity: str, passed: bool = False, kind: str = "custom") -> CheckResult:
    return CheckResult(
        table, name, kind, severity, passed, 0 if passed else 1, "ok" if passed else "1 bad row(s)", "[]", True
    )


REPORT = CheckReport(
    "c1",
    NOW,
    [
        result("silver.market_snapshots", "freshness", "warn", kind="freshness"),
        result("silver.market_snapshots", "price_non_negative", "error"),
        result("silver.coins", "not_null_key", "error", passed=True),
        result("silver.price_history", "daily_gaps", "warn"),
        result("silver.price_history", "freshness", "error", kind="freshness"),
    ],
)


def test_failing_checks_are_tagged_with_severity_errors_first() -> None:
    assert REPORT.failing == [
        "silver.market_snapshots.price_non_negative (error)",
        "silver.price_history.freshness (error)",
        "silver.market_snapshots.freshness (warn)",
        "silver.price_history.daily_gaps (warn)",
    ]


def test_failing_labels_have_no_stray_spaces() -> None:
    for line in REPORT.failing:
        assert line == line.strip() and "  " not in line and " ," not in line


def test_failing_labels_survive_rich_markup_unchanged() -> None:
    # The CLI prints them through Rich: "[warn]" used to be eaten as a style tag ("label , label ").
    joined = ", ".join(REPORT.failing)
    assert Text.from_markup(f"[yellow]checks failing:[/] {joined}").plain == f"checks failing: {joined}"


def test_summary_uses_the_same_tags() -> None:
    assert REPORT.summary().startswith("silver.market_snapshots.price_non_negative (error): 1 bad row(s); ")
    assert CheckReport("c2", NOW, [result("a.b", "c", "error", passed=True)]).summary() == "all 1 checks passed"


def test_check_failed_alert_lists_tagged_error_checks() -> None:
    alert = alerts.check_failed(REPORT, "r1", gated=False)
    assert alert is not None
    # freshness has its own rule; warnings never alert
    assert alert.text == "• silver.market_snapshots.price_non_negative (error): 1 bad row(s)"
