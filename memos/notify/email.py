"""E-mail: the SMTP transport Memos uses, its notification texts, and a background mail queue.

The transport speaks implicit TLS (``use_ssl``), STARTTLS (``use_tls``) or
plain SMTP, authenticates with PLAIN when credentials are set, and gives up
after 15 seconds. It is blocking (smtplib) and always runs in a worker thread.
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime
import email.header
import email.utils
import logging
import smtplib
import ssl
from typing import Any

from memos.notify.background import BackgroundQueue

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 15.0
QUEUE_SIZE = 128
WORKERS = 2

TEST_SUBJECT = "[Memos] Test email"
TEST_BODY = "This is a test email from your Memos notification settings."

# Go's smtp.PlainAuth sends a password in clear only to these hosts; we keep that rule.
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class EmailConfigError(ValueError):
    """The SMTP settings cannot be used to send anything."""


class EmailSendError(Exception):
    """Talking to the SMTP server failed."""


@dataclasses.dataclass(frozen=True)
class SmtpConfig:
    """What the transport needs; built from an e-mail setting message with ``from_setting``."""

    host: str
    port: int
    username: str = ""
    password: str = ""
    from_email: str = ""
    from_name: str = ""
    reply_to: str = ""
    use_tls: bool = False
    use_ssl: bool = False

    @classmethod
    def from_setting(cls, setting: Any) -> SmtpConfig:
        """From a store or API ``NotificationSetting.EmailSetting`` (they share field names)."""
        return cls(
            host=setting.smtp_host.strip(),
            port=setting.smtp_port,
            username=setting.smtp_username.strip(),
            password=setting.smtp_password,
            from_email=setting.from_email.strip(),
            from_name=setting.from_name.strip(),
            reply_to=setting.reply_to.strip(),
            use_tls=setting.use_tls,
            use_ssl=setting.use_ssl,
        )

    def validate(self) -> None:
        """Raise EmailConfigError with the reason Memos gives when a config cannot send."""
        if not self.host:
            raise EmailConfigError("SMTP host is required")
        if not 1 <= self.port <= 65535:
            raise EmailConfigError("SMTP port must be between 1 and 65535")
        if not self.from_email:
            raise EmailConfigError("from email is required")


@dataclasses.dataclass(frozen=True)
class Email:
    recipients: tuple[str, ...]
    subject: str
    body: str


# --- message text ----------------------------------------------------------------


def _header_value(value: str) -> str:
    """One line, whitespace collapsed: a header value can never start a new header."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def _encoded(value: str) -> str:
    """ASCII as is; anything else as an RFC 2047 encoded word so every client shows it right."""
    value = _header_value(value)
    return value if value.isascii() else email.header.Header(value, "utf-8").encode()


def render_message(config: SmtpConfig, message: Email, *, now: datetime.datetime | None = None) -> bytes:
    """The full RFC 5322 message: CRLF headers, a UTF-8 plain-text body."""
    from_address = _header_value(config.from_email)
    sender = f"{_encoded(config.from_name)} <{from_address}>" if config.from_name else from_address
    headers = [
        ("From", sender),
        ("To", ", ".join(_header_value(r) for r in message.recipients)),
    ]
    if config.reply_to:
        headers.append(("Reply-To", _header_value(config.reply_to)))
    when = now or datetime.datetime.now(datetime.UTC).astimezone()
    headers += [
        ("Subject", _encoded(message.subject)),
        ("Date", email.utils.format_datetime(when)),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
    ]
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    body = "\r\n".join(message.body.replace("\r\n", "\n").split("\n"))
    return (head + "\r\n" + body).encode("utf-8")


# --- transport -------------------------------------------------------------------


def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def send_email_blocking(config: SmtpConfig, message: Email, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
    """Deliver ``message`` to the SMTP server of ``config``; raises EmailSendError on any failure."""
    config.validate()
    if not message.recipients:
        raise EmailConfigError("no recipients")
    data = render_message(config, message)
    try:
        with _connect(config, timeout) as smtp:
            _authenticate(smtp, config)
            refused = smtp.sendmail(config.from_email, list(message.recipients), data)
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise EmailSendError(f"{type(exc).__name__}: {exc}") from exc
    if refused:
        raise EmailSendError(f"recipients refused: {', '.join(sorted(refused))}")


def _connect(config: SmtpConfig, timeout: float) -> smtplib.SMTP:
    if config.use_ssl:
        return smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=_tls_context())
    smtp = smtplib.SMTP(config.host, config.port, timeout=timeout)
    try:
        smtp.ehlo()
        if config.use_tls:
            if not smtp.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
            smtp.starttls(context=_tls_context())
            smtp.ehlo()
    except BaseException:
        smtp.close()
        raise
    return smtp


def _authenticate(smtp: smtplib.SMTP, config: SmtpConfig) -> None:
    if not (config.username or config.password):
        return
    encrypted = config.use_ssl or config.use_tls
    if not encrypted and config.host not in _LOCAL_HOSTS:
        raise smtplib.SMTPNotSupportedError("refusing to send the SMTP password over an unencrypted connection")
    smtp.user, smtp.password = config.username, config.password
    smtp.auth("PLAIN", smtp.auth_plain)


async def send_email(config: SmtpConfig, message: Email, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
    """``send_email_blocking`` in a worker thread."""
    await asyncio.to_thread(send_email_blocking, config, message, timeout=timeout)


# --- notification texts ----------------------------------------------------------


def display_name(nickname: str, username: str) -> str:
    """How an e-mail names a person: nickname, else username, else "there"."""
    return nickname.strip() or username.strip() or "there"


def _base_url(instance_url: str) -> str:
    return instance_url.strip().rstrip("/")


def instance_test_email(recipient: str) -> Email:
    return Email((recipient,), TEST_SUBJECT, TEST_BODY)


def comment_email(
    *, recipient: str, receiver_name: str, sender_name: str, instance_url: str, memo_uid: str, comment_uid: str
) -> Email:
    """Someone commented on the receiver's memo; the memo's content is never included."""
    link = f"{_base_url(instance_url)}/memos/{memo_uid}#{comment_uid}"
    body = [
        f"Hi {receiver_name},",
        "",
        f"{sender_name} commented on your memo.",
        "",
        "Open in Memos:",
        link,
        "",
        "You are receiving this because you own this memo.",
    ]
    return Email((recipient,), f"[Memos] {sender_name} commented on your memo", "\n".join(body))


def mention_email(*, recipient: str, receiver_name: str, sender_name: str, instance_url: str, memo_uid: str) -> Email:
    """Someone mentioned the receiver in a memo; the memo's content is never included."""
    body = [
        f"Hi {receiver_name},",
        "",
        f"{sender_name} mentioned you in a memo.",
        "",
        "Open in Memos:",
        f"{_base_url(instance_url)}/memos/{memo_uid}",
        "",
        "You are receiving this because you were mentioned in this memo.",
    ]
    return Email((recipient,), f"[Memos] {sender_name} mentioned you in a memo", "\n".join(body))


# --- background sending ----------------------------------------------------------


class Mailer:
    """Sends notification e-mails in the background (bounded queue, two workers, best effort)."""

    def __init__(self, *, queue_size: int = QUEUE_SIZE, workers: int = WORKERS, timeout: float = SMTP_TIMEOUT_SECONDS):
        self._timeout = timeout
        self._queue: BackgroundQueue[tuple[SmtpConfig, Email]] = BackgroundQueue(
            "email", self._send, size=queue_size, workers=workers
        )

    def submit(self, config: SmtpConfig, message: Email) -> bool:
        """Queue without waiting; False when dropped (queue full)."""
        return self._queue.submit((config, message))

    def submit_notification(self, notification_setting: Any, instance_url: str, message: Email) -> bool:
        """Queue a notification e-mail if the instance may send one; True when queued.

        Needs e-mail enabled in the NOTIFICATION setting (store message), an
        instance URL (links point there), a recipient, and a usable SMTP config.
        Whether the receiver may see the memo is the caller's check.
        """
        email_setting = notification_setting.email
        if not email_setting.enabled or not instance_url.strip():
            return False
        recipients = tuple(r.strip() for r in message.recipients if r.strip())
        config = SmtpConfig.from_setting(email_setting)
        try:
            config.validate()
        except EmailConfigError as exc:
            log.warning("notification e-mail not sent: %s", exc)
            return False
        if not recipients:
            return False
        return self.submit(config, dataclasses.replace(message, recipients=recipients))

    async def join(self) -> None:
        await self._queue.join()

    async def close(self) -> None:
        await self._queue.close()

    async def _send(self, item: tuple[SmtpConfig, Email]) -> None:
        config, message = item
        try:
            await send_email(config, message, timeout=self._timeout)
        except (EmailSendError, EmailConfigError) as exc:
            log.warning("notification e-mail to %s failed: %s", ", ".join(message.recipients), exc)
