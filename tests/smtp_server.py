"""A real SMTP server on 127.0.0.1 (aiosmtpd, in its own thread): STARTTLS or implicit TLS from a
trustme CA, a login, a size limit, and answers that can be set to fail (4xx / 5xx at RCPT or DATA)."""
from __future__ import annotations

import email
import email.policy
import ssl
from dataclasses import dataclass, field

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from pg_server import free_port

USER, PASSWORD = "sla-mailer", "smtp-s3cret-pass"



@dataclass
class Mailbox:
    """What the server took, and how it answers the next messages."""

    messages: list[email.message.EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    rcpt_answer: str | None = None  # e.g. "550 5.1.1 no such user": refuse every recipient
    data_answer: str | None = None  # e.g. "451 4.3.0 try again later": refuse the message

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_answer:
            return self.data_answer
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 2.0.0 accepted"


def _login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


class SmtpServer:
    """``start(implicit=…)`` an SMTP server with a login (required, over TLS only) and TLS (STARTTLS
    required, or implicit); ``ca_file`` trusts its certificate."""

    def __init__(self, tmp_path, size_limit: int = 1_000_000):
        ca = trustme.CA()
        self.ca_file = str(tmp_path / "smtp-ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        leaf = ca.issue_cert("127.0.0.1", "localhost")
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(self.context)
        self.client_context = ssl.create_default_context()
        ca.configure_trust(self.client_context)
        self.mailbox = Mailbox()
        self.size_limit = size_limit
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self, implicit: bool = False) -> "SmtpServer":
        # aiosmtpd counts only STARTTLS as TLS for auth_require_tls: with implicit TLS every byte is encrypted anyway
        # (its warning of AUTH without TLS, each connection, is filtered in pyproject.toml).
        tls = ({"ssl_context": self.context, "server_hostname": "127.0.0.1", "auth_require_tls": False} if implicit
               else {"tls_context": self.context, "require_starttls": True, "auth_require_tls": True})
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, authenticator=_login,
                                     auth_required=True, data_size_limit=self.size_limit, **tls)
        self.controller.start()
        return self

    def url(self, implicit: bool = False) -> str:
        return f"{'smtps' if implicit else 'smtp'}://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
