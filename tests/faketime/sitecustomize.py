"""Loaded by every Python process of a `make test-dates` run (tests/dates.py puts this folder on
PYTHONPATH), and by no other.

Debian 12's libfaketime (0.9.10) leaves the monotonic clock alone when asked to (as those runs ask:
timeouts and schedulers must not jump), but then fails Python's `time.sleep`, which waits on an
absolute monotonic deadline (clock_nanosleep, TIMER_ABSTIME), with EINVAL. A relative wait on
`select` is not intercepted, so `time.sleep` waits on that instead, for as long as it was asked to.
"""
import select
import time


def _sleep(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


time.sleep = _sleep
