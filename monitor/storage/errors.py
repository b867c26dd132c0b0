"""What the stores raise."""
from __future__ import annotations

LARGEST_INTEGER = 2**63 - 1  # SQLite's largest INTEGER: no row id or count a store holds is larger


class StoreError(Exception):
    """The store cannot be used as asked (not SQLite, too new, missing, pruned range, no such record)."""


class NotFound(StoreError):
    """No record with that id."""


class AlreadyDone(StoreError):
    """The record is already in the state asked for (a window cancelled, an exclusion withdrawn)."""


class StoreUnavailable(Exception):
    """The store exists but this process cannot use it now (permissions, disk): a runtime failure."""


# The messages both stores give, from one place so that they cannot drift apart.

def no_such(what: str, table: str, row_id: int) -> StoreError:
    return NotFound(f"no {what} with id {row_id} (list them with `sla-monitor {table.rstrip('s')} list`)")


def already_cancelled(window_id: int) -> StoreError:
    return AlreadyDone(f"maintenance window {window_id} is already cancelled")


def already_withdrawn(exclusion_id: int) -> StoreError:
    return AlreadyDone(f"exclusion {exclusion_id} is already withdrawn")


def resolved_before_opened(incident_id: str) -> StoreError:
    return StoreError(f"incident {incident_id}: --at must be after it opened")


def pruned(before: str, earliest: str) -> StoreError:
    """``before``: where samples were pruned; ``earliest``: the first instant a sample may be added (ISO)."""
    return StoreError(f"samples before {before} were pruned (storage.sample_retention_days); "
                      f"cannot add samples before {earliest}")
