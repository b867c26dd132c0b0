"""Email over SMTP (STARTTLS or implicit TLS, login from ${VAR}): one message per event, plain text and
HTML, threaded: the events of one outage (one dedup key) answer the first one's Message-ID, so a mail
client shows opened, counted and resolved as one conversation. The same sender mails the scheduled
reports and claims (``compose`` with attachments). The server's own words are the error; a 5xx answer
is permanent (a refused login, recipient or size), a 4xx or a dropped connection is retried."""
from __future__ import annotations

import asyncio
import base64
import email.policy
import email.utils
import hashlib
import html
import ssl
from email.message import EmailMessage
from typing import TYPE_CHECKING, Literal, Sequence, cast
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from ..event import Event
from .base import SECRET, DestinationSettings
from .text import detail_lines
from .transport import Result

if TYPE_CHECKING:
    import aiohttp

SMTP_URL = r"^smtps?://[^\s/?#@:]+(:\d{1,5})?/?$"  # smtp://host[:port] (STARTTLS) or smtps://host[:port] (TLS)
# Each later event of a dedup key answers its first: the thread's root is the opening event's message.
FOLLOWS = {"outage.counted", "outage.resolved", "incident.updated", "third_party.up", "maintenance.ended", "monitor.recovered",
           "certificate.renewed", "test.resolved"}
SUBJECT_MAX = 200
# CRLF, non-ASCII text as quoted-printable (a server without 8BITMIME takes it), no folding below RFC 5322's
# 998 characters (a folded Subject read back by some parsers keeps the fold's space).
POLICY = email.policy.SMTP.clone(cte_type="7bit", max_line_length=998)
SIZE_REFUSED = 552  # "message size exceeds fixed maximum" (RFC 5321 §4.5.3.1.10)
LINK_HEADER = "X-SLA-Monitor-Document"  # where a scheduled document can be fetched, should it not fit


def address(value: str) -> str:
    """``value`` as one mailbox (``Name <user@host>`` or ``user@host``); ValueError when it is not one."""
    addr = email.utils.parseaddr(value)[1]
    if "@" not in addr or any(c in value for c in "\r\n") or addr.startswith("@") or addr.endswith("@"):
        raise ValueError(f"{value!r} is not an email address (write user@example.org or 'Name <user@example.org>')")
    return value


def plain(blocks: Sequence[Sequence[str]]) -> str:
    """Blocks of lines as a message's text part: a blank line between blocks, empty ones left out."""
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"


def bullets(lines: Sequence[str]) -> str:
    """``lines`` as an HTML list, escaped ("" when there are none)."""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f"<ul>{items}</ul>" if items else ""


def page(body: str) -> str:
    """A message's HTML part around ``body`` (already escaped)."""
    return f"<!DOCTYPE html><html><body>{body}</body></html>"


def message_id(key: str, domain: str) -> str:
    """A stable Message-ID for ``key`` (an event id or dedup key): a retry or a second daemon sends
    the same one."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def without_attachments(body: bytes, refusal: str) -> bytes | None:
    """``body`` less its attachments, with a note of their size, the server's refusal and where the
    document is (the message's link, or the command that makes it); None when it has none."""
    msg = cast(EmailMessage, email.message_from_bytes(body, _class=EmailMessage, policy=POLICY))
    dropped = list(msg.iter_attachments())
    if not dropped:
        return None
    msg.set_payload([p for p in msg.iter_parts() if not p.is_attachment()])
    size = sum(len(cast(bytes, p.get_payload(decode=True) or b"")) for p in dropped)
    names = ", ".join(p.get_filename() or "document" for p in dropped)
    where = (f"Download it at {msg[LINK_HEADER]}" if msg[LINK_HEADER] else
             "Make it with sla-monitor report --month M --format pdf (or claim --month M --format pdf)")
    note = (f"{names} ({size // 1024} KB) was too large for the mail server ({refusal}), so it is not attached. "
            f"{where}.")
    for kind in ("plain", "html"):
        part = msg.get_body((kind,))
        if part is not None:
            content = part.get_content()
            part.set_content(f"{note}\n\n{content}" if kind == "plain" else
                             content.replace("<body>", f"<body><p><strong>{html.escape(note)}</strong></p>", 1),
                             subtype=kind)
    return msg.as_bytes()


class SmtpError(Exception):
    """The SMTP server refused or failed: its code (None: no answer) and its own words."""

    def __init__(self, code: int | None, words: str):
        super().__init__(f"smtp: {f'{code} ' if code else ''}{words}")
        self.code = code

    @property
    def permanent(self) -> bool:
        return self.code is not None and 500 <= self.code < 600


class EmailDestination(DestinationSettings):
    """Mailboxes, through an SMTP server."""

    type: Literal["email"]
    """Email through an SMTP server: plain text and HTML, one thread per outage."""
    url: str = Field(pattern=SMTP_URL)
    """The server: `smtp://host:587` (STARTTLS; port 587 by default) or `smtps://host:465` (TLS from the
    first byte; port 465 by default)."""
    sender: str
    """The From address (`sla-monitor <sla@example.org>`)."""
    to: list[str] = Field(min_length=1)
    """Recipients."""
    username: str | None = Field(None, json_schema_extra=SECRET)
    """The SMTP login, if the server asks for one; use ${VAR}."""
    password: str | None = Field(None, json_schema_extra=SECRET)
    """The SMTP password; use ${VAR}."""
    starttls: bool = True
    """With `smtp://`: require STARTTLS (false: plain SMTP, for a relay on the same host only)."""
    ca_file: str | None = None
    """A PEM file of the CA that signed the server's certificate, when it is not a public one."""
    subject_prefix: str = "[sla-monitor]"
    """Put before every subject, for mail rules."""

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return address(value)

    @field_validator("to")
    @classmethod
    def _to(cls, value: list[str]) -> list[str]:
        return [address(v) for v in value]

    @property
    def domain(self) -> str:
        """The sender's domain: the right-hand side of every Message-ID."""
        return email.utils.parseaddr(self.sender)[1].rpartition("@")[2]

    def compose(self, subject: str, text: str, html_body: str, now_ms: int, ident: str, thread: str | None = None,
                attachments: Sequence[tuple[str, bytes, str]] = ()) -> EmailMessage:
        """A message from this destination's sender to its recipients: ``text`` with ``html_body`` as its
        alternative, ``attachments`` (file name, bytes, MIME type), Message-ID from ``ident``, answering
        ``thread`` (a key whose message began the conversation)."""
        msg = EmailMessage(policy=POLICY)
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        # One line, however the summary was written (a header can hold no line break).
        msg["Subject"] = " ".join(f"{self.subject_prefix} {subject}".split())[:SUBJECT_MAX]
        msg["Date"] = email.utils.formatdate(now_ms / 1000, usegmt=True)
        msg["Message-ID"] = message_id(ident, self.domain)
        if thread is not None:
            msg["In-Reply-To"] = msg["References"] = message_id(thread, self.domain)
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
        msg.set_content(text)
        msg.add_alternative(html_body, subtype="html")
        for name, data, mime in attachments:
            maintype, _, subtype = mime.partition("/")
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return msg

    def build_payload(self, event: Event, now_ms: int) -> tuple[bytes, dict]:
        if "attachment" in event.data:  # a scheduled document (the report, a claim): its mail is in the event
            return self._document(event, now_ms), {}
        links = event.data.get("links", {})
        details = detail_lines(event)
        footer = f"{event.region or '-'} · {event.as_json()['occurred_at']} · {event.id}"
        text = plain([[event.summary], details, [f"{t}: {h}" for t, h in links.items()], [footer]])
        anchors = " · ".join(f'<a href="{html.escape(h)}">{html.escape(t)}</a>' for t, h in links.items())
        body = page(f"<p><strong>{html.escape(event.summary)}</strong></p>{bullets(details)}"
                    f"{f'<p>{anchors}</p>' if anchors else ''}<p style=\"color:#666\">{html.escape(footer)}</p>")
        # The opening event of a dedup key starts the thread (its Message-ID is the key's); the rest answer it.
        follows = event.type in FOLLOWS
        msg = self.compose(f"{event.type}: {event.summary}", text, body, now_ms,
                           event.id if follows else event.dedup_key, event.dedup_key if follows else None)
        return msg.as_bytes(), {}

    def _document(self, event: Event, now_ms: int) -> bytes:
        data = event.data
        attached = data["attachment"]
        paragraphs, items = data["paragraphs"], data["items"]
        text = plain([*[[p] for p in paragraphs], items])
        body = page("".join(f"<p>{html.escape(p)}</p>" for p in paragraphs) + bullets(items))
        msg = self.compose(data["subject"], text, body, now_ms, event.id,
                           attachments=[(attached["name"], base64.b64decode(attached["base64"]), attached["type"])])
        if data.get("link"):
            msg[LINK_HEADER] = data["link"]
        return msg.as_bytes()

    async def send(self, session: aiohttp.ClientSession | None, body: bytes, headers: dict) -> Result:
        """Hand it to the server; the server's refusal is the error (5xx: permanent). A message the
        server finds too large (552) is sent again without its attachments, with a note saying where
        the document is."""
        try:
            await self.deliver(body)
        except SmtpError as exc:
            smaller = without_attachments(body, str(exc)) if exc.code == SIZE_REFUSED else None
            if smaller is None:
                return Result(False, permanent=exc.permanent, error=str(exc))
            try:
                await self.deliver(smaller)
            except SmtpError as again:
                return Result(False, permanent=again.permanent, error=f"{again} (without the attachment; first: {exc})")
        return Result(True)

    async def deliver(self, body: bytes) -> None:
        """Send ``body`` (a whole message) to the recipients, within ``timeout``; SmtpError when the
        server refuses or cannot be reached."""
        import aiosmtplib  # here: the config, which names the destinations, loads without it

        parts = urlsplit(self.url)
        implicit = parts.scheme == "smtps"
        context = ssl.create_default_context(cafile=self.ca_file)
        recipients = [email.utils.parseaddr(a)[1] for a in self.to]
        try:
            async with asyncio.timeout(self.timeout / 1000):
                await aiosmtplib.send(
                    body, sender=email.utils.parseaddr(self.sender)[1], recipients=recipients,
                    hostname=parts.hostname, port=parts.port or (465 if implicit else 587),
                    username=self.username, password=self.password, use_tls=implicit,
                    start_tls=False if implicit else self.starttls, tls_context=context,
                    timeout=self.timeout / 1000)
        except TimeoutError as exc:
            raise SmtpError(None, f"timeout after {self.timeout / 1000:g} s") from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            raise SmtpError(first.code, f"recipient {first.recipient} refused: {first.message}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise SmtpError(exc.code, exc.message) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:  # no answer: connection refused, dropped, TLS failed
            raise SmtpError(None, str(exc) or type(exc).__name__) from exc
