"""Who may write through the API: bearer tokens with scopes (``web.tokens``, and ``web.api_token`` as a
token with every scope, named ``api_token``).

Each configured token is kept as its SHA-256 only. A request's token is hashed and compared with every
configured digest in constant time, all of them, so that neither which token matched nor how much of it
did shows in the time taken. A refusal names the token and the scope it lacks, never the token."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from ..config.models import WebConfig

ADMIN = "admin"
API_TOKEN = "api_token"  # web.api_token's name in the audit trail


@dataclass(frozen=True)
class Grant:
    """A configured token: its name, its SHA-256, and its scopes."""

    name: str
    digest: bytes
    scopes: frozenset[str]


def grants(web: WebConfig) -> tuple[Grant, ...]:
    """Every token the config gives, hashed."""
    out = [Grant(t.name, bytes.fromhex(t.sha256) if t.sha256 else _digest(t.token or ""), frozenset(t.scopes))
           for t in web.tokens]
    if web.api_token:
        out.append(Grant(API_TOKEN, _digest(web.api_token), frozenset({ADMIN})))
    return tuple(out)


def _digest(token: str) -> bytes:
    # surrogateescape: a header that is not UTF-8 hashes (and fails) like any other wrong token
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


def holder(configured: tuple[Grant, ...], authorization: str) -> Grant | None:
    """The grant whose token the ``Authorization: Bearer …`` header carries; None for none."""
    if not authorization.startswith("Bearer "):
        return None
    given = _digest(authorization[7:])
    found = None
    for grant in configured:  # every one compared: the time does not tell which matched
        if hmac.compare_digest(given, grant.digest):
            found = grant
    return found


def allows(grant: Grant, scope: str) -> bool:
    """Whether ``grant`` may do what ``scope`` names (``admin`` may do everything)."""
    return scope in grant.scopes or ADMIN in grant.scopes
