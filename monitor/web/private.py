"""A private status page (``web.public: false``): every read needs a reader, found in one of three ways:

- a bearer token (``web.tokens``) with the scope ``read`` or ``admin``; a write's own scope is checked by
  its handler, so any known token passes this gate for a write;
- a user's password (``web.users``, HTTP basic auth) checked against its bcrypt hash; a password that
  passed once is remembered by its SHA-256 for the process's life, so a page's polling does not pay
  bcrypt's deliberate slowness on every request;
- the header an authenticating proxy sets (``web.trusted_proxy``), believed only from its addresses.

/healthz and /readyz stay open: an orchestrator's liveness checks carry no credentials. The same
middleware limits the rate of requests without credentials (``ratelimit.py``), public page or not."""
from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ..clock import Clock
from ..config.models import UserConfig, WebConfig
from .problems import problem
from .ratelimit import Buckets
from .tokens import Grant, allows, holder

OPEN = frozenset({"/healthz", "/readyz"})
CHALLENGE = {"WWW-Authenticate": 'Basic realm="sla-monitor", charset="UTF-8"'}


class Readers:
    """Who may read: the config's tokens, users and trusted proxy."""

    def __init__(self, web_cfg: WebConfig, grants: tuple[Grant, ...]):
        self.grants = grants
        self.users = {u.name: u for u in web_cfg.users}
        self.proxy = web_cfg.trusted_proxy
        self._passed: set[bytes] = set()  # sha256(user, password) of passwords bcrypt accepted

    def vouched(self, request: web.Request) -> bool:
        """Whether the request carries a known bearer token, or the trusted proxy's header from its
        addresses: credentials that cost nothing to check (a password costs bcrypt)."""
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Bearer "):
            return holder(self.grants, authorization) is not None
        return self.proxy is not None and bool(request.headers.get(self.proxy.header)) \
            and self._from_proxy(request.remote)

    def lets_in(self, request: web.Request) -> bool:
        """Whether the request comes from a reader."""
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Bearer "):
            grant = holder(self.grants, authorization)
            writing = request.method not in ("GET", "HEAD")
            return grant is not None and (writing or allows(grant, "read"))
        if authorization.startswith("Basic "):
            return self._password_matches(authorization[6:])
        if self.proxy is not None and request.headers.get(self.proxy.header):
            return self._from_proxy(request.remote)
        return False

    def _password_matches(self, encoded: str) -> bool:
        try:
            name, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user = self.users.get(name)
        if user is None:
            return False
        key = hashlib.sha256(f"{len(name)}:{name}:{password}".encode()).digest()
        if key not in self._passed:
            if not _bcrypt_matches(password, user):
                return False
            self._passed.add(key)
        return True

    def _from_proxy(self, remote: str | None) -> bool:
        assert self.proxy is not None
        try:
            address = ipaddress.ip_address(remote or "")
        except ValueError:
            return False
        return any(address in network for network in self.proxy.from_)


def _bcrypt_matches(password: str, user: UserConfig) -> bool:
    import bcrypt  # only a private page with users needs it

    try:
        return bcrypt.checkpw(password.encode("utf-8"), user.password_bcrypt.encode("ascii"))
    except ValueError:  # a password over bcrypt's 72 bytes
        return False


def gate(readers: Readers, private: bool, buckets: Buckets | None, clock: Clock) -> Middleware:
    """The middleware in front of every route: a request without cheap credentials spends from its
    address's bucket (429 with Retry-After when empty, before any password is checked); on a private
    page, a request without a reader gets a 401 (with a basic-auth challenge)."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN:
            return await handler(request)
        if buckets is not None and not readers.vouched(request):
            wait = buckets.take(request.remote or "", clock.now_ms())
            if wait is not None:
                return problem(429, f"too many requests without credentials from this address; try again in "
                                    f"{wait} s (web.rate_limit)", headers={"Retry-After": str(wait)})
        if private and not readers.lets_in(request):
            return problem(401, "sign in: this status page is private", headers=CHALLENGE)
        return await handler(request)

    return guard
