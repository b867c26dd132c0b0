"""The one place that reads the wall clock. Everything else takes ``now_ms`` as an argument."""
from __future__ import annotations

import time


def now_ms() -> int:
    """Current time as integer UTC milliseconds."""
    return time.time_ns() // 1_000_000
