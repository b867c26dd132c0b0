"""What the stores raise."""
from __future__ import annotations


class StoreError(Exception):
    """The store cannot be used as asked (not SQLite, too new, missing, pruned range, no such record)."""


class StoreUnavailable(Exception):
    """The store exists but this process cannot use it now (permissions, disk): a runtime failure."""
