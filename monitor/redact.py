"""One place that makes an error text safe to store, log, export and show: secrets out, length bounded.

Error texts come from libraries (aiohttp puts URLs in its exceptions) and from targets (a status page's
component names, a body). A URL's query secrets (``?apikey=``), its user info, a Slack webhook path,
and any configured secret given by the caller are replaced; the text is cut to ``MAX_ERROR_CHARS``."""
from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import urlsplit

MAX_ERROR_CHARS = 500
_QUERY_SECRET = re.compile(
    r"(?i)([?&;](?:api[_-]?key|apikey|key|token|access[_-]?token|auth|secret|password|passwd|pwd|sig|signature|code)=)"
    r"[^&#\s'\"]+")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"]+@")
_HOOK_PATH = re.compile(r"(?i)(hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s'\"]+")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with query secrets, user info, Slack hook paths and each given secret replaced by ``***``.
    A secret that is a URL is replaced by its scheme and host (its path is often the secret itself)."""
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        if "://" in secret:
            parts = urlsplit(secret)
            text = text.replace(secret, f"{parts.scheme}://{parts.hostname}/***")
        else:
            text = text.replace(secret, "***")
    text = _QUERY_SECRET.sub(r"\1***", text)
    text = _USERINFO.sub(r"\1***@", text)
    return _HOOK_PATH.sub(r"\1***", text)


def bounded(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """At most ``limit`` characters, on one line, an ellipsis where it was cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_error(text: str | None, secrets: Iterable[str] = ()) -> str | None:
    """An error text fit to keep: redacted, then bounded. None stays None."""
    return None if text is None else bounded(redact(text, secrets))
