"""The process's memory: the cyclic collector paused around bulk building of small objects, kept off
what lives for good, and freed memory given back."""
from __future__ import annotations

import contextlib
import ctypes
import gc
from typing import Callable, Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building a report: it allocates many small acyclic objects, and with a
    large live heap the collector's full passes cost more than the report itself (measured: 20 µs per
    period dict with GC on, under 1 µs with it paused)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _libc(name: str) -> Callable[..., int] | None:
    # The process's own symbols (dlopen(NULL)) include the C library's. Not ctypes.util.find_library:
    # it runs `ldconfig -p` in a child process, a stray child of the daemon at every start.
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return None


_TRIM = _libc("malloc_trim")
_MALLOPT = _libc("mallopt")
M_MMAP_THRESHOLD = -3  # glibc's malloc.h
LARGE_BLOCK = 128 * 1024  # glibc's default threshold, kept from then on


def return_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``; elsewhere nothing).
    Python's small-object arenas go back by themselves once empty, but larger blocks (a probe model's
    field dict, a list's items) come from malloc, whose freed pages stay the process's: after the config's
    parse and validation, that is tens of MB at 20,000 probes (bench/RESULTS.md)."""
    if _TRIM is not None:
        _TRIM(0)


def settle() -> None:
    """Once a process has built what it keeps for good (config, live state, routes): out of the cyclic
    collector's sight (a full collection then takes well under a millisecond instead of ~90 ms at
    20,000 probes, time in which no scrape is answered and no probe is sent), the startup's freed
    memory back to the system, and large blocks mapped on their own from then on."""
    gc.freeze()
    return_free_memory()
    # glibc maps a block of 128 KB or more by itself and unmaps it when freed, but raises that threshold
    # to the size of the largest block freed (up to 32 MB): after one /metrics answer (6.7 MB at 20,000
    # probes) the next ones come from the heap and their pages stay the process's. A fixed threshold
    # returns every large block (25 MB less RSS in the daemon at 20,000 probes, bench/RESULTS.md).
    if _MALLOPT is not None:
        _MALLOPT(M_MMAP_THRESHOLD, LARGE_BLOCK)
