"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it receives."""
from __future__ import annotations

import contextlib
import dataclasses
import email
import email.header
import email.message
import email.policy
import ssl
import threading
from collections.abc import Iterator
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from support import free_port


@dataclasses.dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes
    tls: bool
    login: str | None

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    def header(self, name: str) -> str:
        """The header as sent (raw line), encoded words decoded."""
        raw = email.message_from_bytes(self.raw, policy=email.policy.compat32)[name]
        return str(email.header.make_header(email.header.decode_header(raw)))

    @property
    def body(self) -> str:
        return self.message.get_content()


class Inbox:
    """aiosmtpd handler: keeps every accepted message."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content,
                     session.ssl is not None, login)
        )
        self.arrived.set()
        return "250 OK"


def _password_checker(username: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == username \
            and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return check


@contextlib.contextmanager
def smtp_server(
    *,
    credentials: tuple[str, str] | None = None,
    tls_context: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    hostname: str = "127.0.0.1",
) -> Iterator[tuple[int, Inbox]]:
    """(port, inbox). ``tls_context`` offers STARTTLS, or with ``implicit_tls`` wraps the whole connection."""
    inbox = Inbox()
    port = free_port()
    params: dict[str, Any] = {"auth_require_tls": False}
    if credentials is not None:
        params["authenticator"] = _password_checker(*credentials)
    if tls_context is not None and not implicit_tls:
        params["tls_context"] = tls_context
    controller = Controller(
        inbox, hostname=hostname, port=port,
        ssl_context=tls_context if implicit_tls else None,
        server_hostname="localhost" if implicit_tls else None,
        **params,
    )
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()
