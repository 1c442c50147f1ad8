"""Alerts a flow sends: never allowed to fail the flow, nor to hide why it failed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from geckolake.ops import alerts

if TYPE_CHECKING:
    from geckolake.config import Settings
    from geckolake.lake.catalog import Lake
    from geckolake.ops.notifiers import Alert

log = logging.getLogger(__name__)


def send(settings: Settings, lake: Lake | None, to_send: Sequence[Alert | None]) -> None:
    """Dispatch ``to_send`` (Nones skipped); recorded in ``ops.alerts_sent`` when ``lake`` is given."""
    found = [a for a in to_send if a is not None]
    if not found:
        return
    try:
        for d in alerts.AlertDispatcher(settings, lake).dispatch(found):
            log.info("alert %s: %s %s", d.alert.key, "sent" if d.sent else "not sent", d.reason)
    # Recording the alert can fail for the same reason the flow did (e.g. a full disk).
    except Exception as e:
        log.warning("alerts not sent or not recorded: %s", e)


def job_failed(settings: Settings, lake: Lake | None, command: str, run_id: str, error: BaseException) -> None:
    """Alert that the job ``command`` failed."""
    send(settings, lake, [alerts.run_failed(command, run_id, str(error))])


def alert_test(settings: Settings) -> dict[str, str]:
    """Send a test alert to every configured channel; the outcome per channel (``ok`` or why not).

    Raises:
        ConfigError: no channel is configured.
    """
    from geckolake.errors import ConfigError

    dispatcher = alerts.AlertDispatcher(settings, None, record=False)
    if not dispatcher.notifiers:
        raise ConfigError(
            "no alert channel configured",
            hint="set alerts.webhook_url, alerts.smtp_host + alerts.smtp_to, or alerts.sns_topic_arn in geckolake.toml",
        )
    (delivery,) = dispatcher.dispatch([alerts.test_alert()], force=True)
    return dict(delivery.channels)
