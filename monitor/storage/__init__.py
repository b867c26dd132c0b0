"""Storage: the interface (``interface.Storage``) and its implementations, SQLite through sqlite-utils
(``store.Store``, the daemon's and the commands') and in memory (``memory.MemoryStore``, imported from
there: the commands need not load it). All SQL lives in this package."""
from typing import TYPE_CHECKING

from .errors import StoreError, StoreUnavailable
from .interface import Storage, StoredSample
from .location import open_store, opened, sqlite_path
from .store import Store

if TYPE_CHECKING:
    from .memory import MemoryStore

__all__ = ["Storage", "Store", "StoreError", "StoreUnavailable", "StoredSample", "open_store", "opened", "sqlite_path"]


def _implements(sqlite: Store, memory: "MemoryStore") -> tuple[Storage, Storage]:
    """Never called: mypy checks here that both stores implement the interface."""
    return sqlite, memory
