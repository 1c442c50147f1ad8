"""Alert channels: a Slack-compatible webhook, SMTP email and AWS SNS.

Each notifier takes its outside dependency by injection (an httpx client, an SMTP factory, a boto3
client), so tests deliver to real local substitutes. Delivery failures are translated to
:class:`NotifyError` at the boundary.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Protocol

from geckolake.errors import GeckolakeError

if TYPE_CHECKING:
    import httpx

    from geckolake.config import Settings


class NotifyError(GeckolakeError):
    """An alert could not be delivered to a channel."""


@dataclass(frozen=True)
class Alert:
    """What happened, said without secrets. ``key`` identifies it for de-duplication."""

    rule: str
    key: str
    severity: str  # info | warning | critical
    title: str
    text: str
    run_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    def plain(self) -> str:
        lines = [f"[{self.severity.upper()}] {self.title}", "", self.text]
        lines += [f"{k}: {v}" for k, v in self.fields.items()]
        return "\n".join(lines)


class Notifier(Protocol):
    name: str

    def send(self, alert: Alert) -> None:
        """Deliver ``alert``.

        Raises:
            NotifyError: the channel refused or could not be reached.
        """


class WebhookNotifier:
    """POSTs Slack-compatible JSON (``text`` plus ``blocks``) to an incoming-webhook URL."""

    name = "webhook"

    def __init__(self, url: str, *, timeout_s: float = 10.0, client: httpx.Client | None = None) -> None:
        self._url = url
        self._timeout = timeout_s
        self._client = client

    def payload(self, alert: Alert) -> dict[str, Any]:
        head = f":rotating_light: *{alert.title}*" if alert.severity == "critical" else f"*{alert.title}*"
        fields = [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in alert.fields.items()][:10]
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{head}\n{alert.text}"}}
        ]
        if fields:
            blocks.append({"type": "section", "fields": fields})
        return {"text": f"[{alert.severity}] {alert.title}: {alert.text}", "blocks": blocks}

    def send(self, alert: Alert) -> None:
        import httpx

        try:
            if self._client is not None:
                resp = self._client.post(self._url, json=self.payload(alert), timeout=self._timeout)
            else:
                resp = httpx.post(self._url, json=self.payload(alert), timeout=self._timeout)
        except httpx.HTTPError as e:
            raise NotifyError(f"webhook unreachable: {type(e).__name__}", hint="check alerts.webhook_url") from None
        if resp.status_code >= 300:
            raise NotifyError(f"webhook answered HTTP {resp.status_code}", hint="check alerts.webhook_url")


class SmtpNotifier:
    """Sends a plain-text email through an SMTP server (optional STARTTLS and login)."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: list[str],
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.host, self.port, self.sender, self.recipients = host, port, sender, recipients
        self.starttls, self.username, self._password, self.timeout_s = starttls, username, password, timeout_s

    def message(self, alert: Alert) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = f"[geckolake {alert.severity}] {alert.title}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg.set_content(alert.plain())
        return msg

    def send(self, alert: Alert) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username and self._password:
                    smtp.login(self.username, self._password)
                smtp.send_message(self.message(alert))
        except (OSError, smtplib.SMTPException) as e:
            raise NotifyError(
                f"email not sent via {self.host}:{self.port}: {type(e).__name__}", hint="check alerts.smtp_*"
            ) from None


class SnsNotifier:
    """Publishes to an AWS SNS topic (subject + plain text)."""

    name = "sns"

    def __init__(
        self, topic_arn: str, *, client: Any = None, region: str | None = None, endpoint_url: str | None = None
    ) -> None:
        self.topic_arn = topic_arn
        self._client = client
        self._region, self._endpoint = region, endpoint_url

    def _sns(self) -> Any:
        if self._client is None:
            try:
                import boto3
            except ImportError as e:
                raise NotifyError("SNS alerts need boto3", hint="pip install 'geckolake[aws]'") from e
            self._client = boto3.client("sns", region_name=self._region, endpoint_url=self._endpoint)
        return self._client

    def send(self, alert: Alert) -> None:
        try:
            self._sns().publish(
                TopicArn=self.topic_arn,
                Subject=f"[geckolake {alert.severity}] {alert.title}"[:99],
                Message=alert.plain(),
            )
        except NotifyError:
            raise
        except Exception as e:  # botocore errors: translate at the boundary, without request details
            raise NotifyError(f"SNS publish failed: {type(e).__name__}", hint="check alerts.sns_topic_arn") from None


def notifiers_from(settings: Settings) -> list[Notifier]:
    """The channels ``[alerts]`` configures (none when nothing is set)."""
    a = settings.alerts
    out: list[Notifier] = []
    if a.webhook_url is not None:
        out.append(WebhookNotifier(a.webhook_url.get_secret_value(), timeout_s=a.timeout_s))
    if a.smtp_host and a.smtp_to:
        password = a.smtp_password.get_secret_value() if a.smtp_password is not None else None
        out.append(
            SmtpNotifier(
                a.smtp_host,
                a.smtp_port,
                a.smtp_from,
                list(a.smtp_to),
                starttls=a.smtp_starttls,
                username=a.smtp_username,
                password=password,
                timeout_s=a.timeout_s,
            )
        )
    if a.sns_topic_arn:
        out.append(SnsNotifier(a.sns_topic_arn, region=settings.aws_region, endpoint_url=settings.aws_endpoint_url))
    return out
