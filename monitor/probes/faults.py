"""Which failures are the monitor's own, not the target's (issue 9).

A failure the monitor causes itself must never become the Service's downtime. Two kinds:

``local``: the request never left this host, whatever the network does. Always unknown.
  - no route to the target's network (``ENETUNREACH``), network down (``ENETDOWN``);
  - no local address to send from (``EADDRNOTAVAIL``);
  - out of sockets, buffers or memory (``EMFILE``, ``ENFILE``, ``ENOBUFS``, ``ENOMEM``);
  - a local firewall or sandbox refused the socket (``EPERM``, ``EACCES``);
  - the resolver library itself failed (``EAI_MEMORY``, ``EAI_SYSTEM``) or has no configuration.

``resolver``: the monitor's resolver did not answer (``EAI_AGAIN`` "temporary failure in name
  resolution", ``EAI_FAIL``; a DNS probe through the system resolvers timing out or finding no
  nameserver). The target's own DNS failing looks the same from here, so it is unknown unless a
  control target resolved a name through the same resolver in a round after the failure.

Everything else (refused, reset, timed out, TLS errors, HTTP answers) is the target's, unless the
vantage's control targets fail too.
"""
from __future__ import annotations

import errno
import socket
import ssl
from typing import Iterator

from ..checks.base import LOCAL, RESOLVER

LOCAL_ERRNOS = frozenset({errno.ENETUNREACH, errno.ENETDOWN, errno.EADDRNOTAVAIL, errno.EMFILE, errno.ENFILE,
                          errno.ENOBUFS, errno.ENOMEM, errno.EPERM, errno.EACCES})
LOCAL_GAI = frozenset(code for code in (getattr(socket, "EAI_MEMORY", None), getattr(socket, "EAI_SYSTEM", None))
                      if code is not None)
RESOLVER_GAI = frozenset({socket.EAI_AGAIN, socket.EAI_FAIL})


def own_fault(exc: BaseException) -> str | None:
    """``local``, ``resolver`` or None (the target's), from the exception and what it wraps."""
    for cause in _chain(exc):
        if isinstance(cause, ssl.SSLError):
            return None  # the peer answered with TLS; and its errno (SSL_ERROR_SSL = 1) is not EPERM
        if isinstance(cause, socket.gaierror):
            if cause.errno in RESOLVER_GAI:
                return RESOLVER
            return LOCAL if cause.errno in LOCAL_GAI else None
        if isinstance(cause, OSError) and cause.errno in LOCAL_ERRNOS:
            return LOCAL
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, the OS error aiohttp wraps in it, and its causes (bounded: chains can loop)."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        yield current
        wrapped = getattr(current, "os_error", None)
        if isinstance(wrapped, BaseException) and wrapped is not current:
            yield wrapped
        current = current.__cause__ or current.__context__
        seen += 1
