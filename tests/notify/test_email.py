"""The SMTP transport and the notification texts, against a real SMTP server on 127.0.0.1."""
from __future__ import annotations

import pathlib
import ssl
from collections.abc import Iterator

import pytest
import trustme
from notify.smtp_server import smtp_server

from memos.gen.store import instance_setting_pb2 as store
from memos.notify.email import (
    Email,
    EmailConfigError,
    EmailSendError,
    Mailer,
    SmtpConfig,
    comment_email,
    instance_test_email,
    mention_email,
    send_email_blocking,
)

pytestmark = pytest.mark.anyio


def _config(port: int = 25, **fields: object) -> SmtpConfig:
    values: dict[str, object] = {"host": "127.0.0.1", "port": port, "from_email": "memos@example.com", **fields}
    return SmtpConfig(**values)  # type: ignore[arg-type]


def test_plain_smtp_delivers_the_test_email_with_all_headers() -> None:
    with smtp_server() as (port, inbox):
        config = _config(port, from_name="Memos Bot", reply_to="admin@example.com")
        send_email_blocking(config, instance_test_email("alice@example.com"))
    [received] = inbox.messages
    assert received.sender == "memos@example.com" and received.recipients == ["alice@example.com"]
    assert received.header("From") == "Memos Bot <memos@example.com>"
    assert received.header("To") == "alice@example.com"
    assert received.header("Reply-To") == "admin@example.com"
    assert received.header("Subject") == "[Memos] Test email"
    assert received.message["MIME-Version"] == "1.0"
    assert b"\r\nContent-Type: text/plain; charset=utf-8\r\n" in received.raw
    assert received.message["Date"].datetime is not None
    assert received.body.strip() == "This is a test email from your Memos notification settings."
    assert b"\r\n\r\n" in received.raw and b"\n\n" not in received.raw.replace(b"\r\n", b"")


def test_comment_email_text_links_to_the_comment_and_hides_the_content() -> None:
    message = comment_email(
        recipient="owner@example.com", receiver_name="Owner", sender_name="Carol",
        instance_url="https://memos.example.com/", memo_uid="parent1", comment_uid="comment9",
    )
    assert message.subject == "[Memos] Carol commented on your memo"
    assert message.body.split("\n") == [
        "Hi Owner,", "", "Carol commented on your memo.", "", "Open in Memos:",
        "https://memos.example.com/memos/parent1#comment9", "", "You are receiving this because you own this memo.",
    ]


def test_mention_email_text() -> None:
    message = mention_email(
        recipient="bob@example.com", receiver_name="there", sender_name="alice",
        instance_url=" http://m.test ", memo_uid="u1",
    )
    assert message.subject == "[Memos] alice mentioned you in a memo"
    assert "http://m.test/memos/u1" in message.body.split("\n")
    assert message.body.endswith("You are receiving this because you were mentioned in this memo.")


def test_header_values_cannot_inject_headers_and_non_ascii_is_encoded() -> None:
    with smtp_server() as (port, inbox):
        config = _config(port, from_name="Zoë\r\nBcc: victim@example.com", reply_to="a@example.com\nX-Evil: 1")
        send_email_blocking(config, Email(("bob@example.com",), "Hi\r\nBcc: victim@example.com  there", "body"))
    [received] = inbox.messages
    assert received.message["Bcc"] is None and received.message["X-Evil"] is None
    assert received.header("Subject") == "Hi Bcc: victim@example.com there"
    assert received.header("From") == "Zoë Bcc: victim@example.com <memos@example.com>"
    assert received.recipients == ["bob@example.com"]


def test_plain_auth_on_loopback_and_a_wrong_password_fails() -> None:
    with smtp_server(credentials=("mailer", "s3cret")) as (port, inbox):
        send_email_blocking(_config(port, username="mailer", password="s3cret"), instance_test_email("a@example.com"))
        with pytest.raises(EmailSendError, match="SMTPAuthenticationError"):
            send_email_blocking(
                _config(port, username="mailer", password="wrong"), instance_test_email("a@example.com")
            )
    [received] = inbox.messages
    assert received.login == "mailer" and not received.tls


def test_password_is_never_sent_in_clear_to_a_remote_host() -> None:
    # 127.0.0.2 is loopback too, but not one of the names Go's PlainAuth trusts with a clear password.
    with smtp_server(credentials=("mailer", "s3cret"), hostname="127.0.0.2") as (port, inbox):
        config = _config(port, host="127.0.0.2", username="mailer", password="s3cret")
        with pytest.raises(EmailSendError, match="unencrypted"):
            send_email_blocking(config, instance_test_email("a@example.com"))
    assert inbox.messages == []


@pytest.fixture
def trusted_tls(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ssl.SSLContext]:
    """A server context whose certificate (localhost, 127.0.0.1) the client trusts through SSL_CERT_FILE."""
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(server_context)
    yield server_context


def test_starttls_upgrades_before_authenticating(trusted_tls: ssl.SSLContext) -> None:
    with smtp_server(credentials=("mailer", "pw"), tls_context=trusted_tls) as (port, inbox):
        config = _config(port, host="localhost", username="mailer", password="pw", use_tls=True)
        send_email_blocking(config, instance_test_email("a@example.com"))
    [received] = inbox.messages
    assert received.tls and received.login == "mailer"


def test_implicit_tls(trusted_tls: ssl.SSLContext) -> None:
    with smtp_server(tls_context=trusted_tls, implicit_tls=True) as (port, inbox):
        send_email_blocking(_config(port, host="localhost", use_ssl=True), instance_test_email("a@example.com"))
    assert len(inbox.messages) == 1


def test_untrusted_certificate_fails(tmp_path: pathlib.Path) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("localhost").configure_cert(server_context)
    with smtp_server(tls_context=server_context) as (port, inbox):
        with pytest.raises(EmailSendError, match="CERTIFICATE_VERIFY_FAILED"):
            send_email_blocking(_config(port, host="localhost", use_tls=True), instance_test_email("a@example.com"))
    assert inbox.messages == []


def test_starttls_required_but_not_offered() -> None:
    with smtp_server() as (port, inbox), pytest.raises(EmailSendError, match="STARTTLS"):
        send_email_blocking(_config(port, use_tls=True), instance_test_email("a@example.com"))
    assert inbox.messages == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"host": ""}, "SMTP host is required"),
        ({"port": 0}, "SMTP port must be between 1 and 65535"),
        ({"port": 70000}, "SMTP port must be between 1 and 65535"),
        ({"from_email": ""}, "from email is required"),
    ],
)
def test_unusable_configs(fields: dict, message: str) -> None:
    with pytest.raises(EmailConfigError, match=message):
        send_email_blocking(_config(**{"port": 25, **fields}), instance_test_email("a@example.com"))


def _notification(port: int, *, enabled: bool = True) -> store.InstanceNotificationSetting:
    setting = store.InstanceNotificationSetting()
    setting.email.enabled = enabled
    setting.email.smtp_host = "127.0.0.1"
    setting.email.smtp_port = port
    setting.email.from_email = "memos@example.com"
    return setting


async def test_mailer_sends_notifications_in_the_background_only_when_allowed() -> None:
    mailer = Mailer()
    mention = mention_email(
        recipient="bob@example.com",
        receiver_name="Bob",
        sender_name="alice",
        instance_url="http://m.test",
        memo_uid="u1",
    )
    with smtp_server() as (port, inbox):
        assert mailer.submit_notification(_notification(port), "http://m.test", mention)
        assert not mailer.submit_notification(_notification(port), "", mention)  # no instance URL, no links
        assert not mailer.submit_notification(_notification(port, enabled=False), "http://m.test", mention)
        assert not mailer.submit_notification(_notification(0), "http://m.test", mention)
        await mailer.join()
        await mailer.close()
    [received] = inbox.messages
    assert received.header("Subject") == "[Memos] alice mentioned you in a memo"
    assert "http://m.test/memos/u1" in received.body


async def test_mailer_queue_is_bounded() -> None:
    mailer = Mailer(queue_size=128)
    accepted = [mailer.submit(_config(9), instance_test_email("a@example.com")) for _ in range(129)]
    assert accepted.count(True) == 128 and accepted[-1] is False
    await mailer.close()
