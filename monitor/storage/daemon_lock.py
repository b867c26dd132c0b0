"""One store, one daemon: an exclusive lock of the operating system on a file beside the SQLite store.

Two daemons writing one store would each fold and alert on the same samples and fight over its write
lock. The lock is ``flock`` on ``<store>.daemon.lock``: the kernel lets it go when the holder exits,
however it exits (kill -9 included), so a stale lock is never a guess about whether a PID still lives.
The file's text says who holds it, for the refusal's message. Short CLI writes (``maintenance add``)
do not take it: they wait on SQLite's own write lock instead.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path

from ..sla.calendar import iso
from .errors import StoreUnavailable


class StoreLocked(StoreUnavailable):
    """Another daemon holds the store."""


class DaemonLock:
    """Held from ``acquire`` until ``release`` (or the process's end)."""

    def __init__(self, store_path: str):
        self.path = f"{store_path}.daemon.lock"
        self._fd: int | None = None

    def acquire(self, now_ms: int) -> None:
        """Take the lock and write who holds it; StoreLocked naming the holder when another has it."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)  # a new store's folder, as Store.open makes it
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise StoreLocked(f"another sla-monitor daemon already runs on this store: {holder} (it holds "
                              f"{self.path}); stop it first, or give this one its own --db") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": iso(now_ms)}).encode())
        os.fsync(fd)
        self._fd = fd

    def check(self, now_ms: int) -> bool:
        """Whether this daemon still holds the lock: the kernel's lock lasts as long as the process."""
        return self._fd is not None

    def release(self) -> None:
        """Let go (the file stays: removing it would race a daemon that has just opened it)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _holder(fd: int) -> str:
    """The holder in words, from what it wrote (it may not have written yet)."""
    try:
        text = os.pread(fd, 4096, 0).decode()
        held = json.loads(text)
        return f"pid {held['pid']} on {held['host']}, since {held['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a daemon that is starting"
