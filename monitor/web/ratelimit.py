"""Rate limits on requests without credentials (``web.rate_limit``): a token bucket per client address,
``burst`` requests deep and refilled at ``per_minute``, counted in whole units (no floats): a request
costs 60,000 units and each millisecond adds ``per_minute``. Time comes from the injected clock."""
from __future__ import annotations

from dataclasses import dataclass

UNITS = 60_000  # a request's cost: a minute's milliseconds
MAX_ADDRESSES = 10_000  # buckets kept before the full ones are dropped (a flood of addresses costs no memory)


@dataclass
class _Bucket:
    level: int  # units left
    at_ms: int  # when it was last filled


class Buckets:
    """One bucket per client address."""

    def __init__(self, per_minute: int, burst: int):
        self.per_minute, self.capacity = per_minute, burst * UNITS
        self._buckets: dict[str, _Bucket] = {}

    def take(self, address: str, now_ms: int) -> int | None:
        """Spend one request of ``address``'s bucket: None when it may go ahead, else the whole seconds
        until it may (for Retry-After)."""
        bucket = self._buckets.get(address)
        if bucket is None:
            if len(self._buckets) >= MAX_ADDRESSES:
                self._drop_full(now_ms)
            bucket = self._buckets[address] = _Bucket(self.capacity, now_ms)
        bucket.level = min(self.capacity, bucket.level + max(0, now_ms - bucket.at_ms) * self.per_minute)
        bucket.at_ms = now_ms
        if bucket.level >= UNITS:
            bucket.level -= UNITS
            return None
        wait_ms = -(-(UNITS - bucket.level) // self.per_minute)
        return max(1, -(-wait_ms // 1000))

    def _drop_full(self, now_ms: int) -> None:
        """Forget the addresses whose buckets have filled up again (they would start full anyway)."""
        full = [a for a, b in self._buckets.items()
                if b.level + max(0, now_ms - b.at_ms) * self.per_minute >= self.capacity]
        for address in full or list(self._buckets)[: MAX_ADDRESSES // 2]:
            del self._buckets[address]
