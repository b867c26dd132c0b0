"""Storage: the interface (``interface.Storage``) and its implementations, SQLite through sqlite-utils
(``store.Store``, the daemon's and the commands') and in memory (``memory.MemoryStore``). All SQL lives
in this package."""
from .errors import StoreError, StoreUnavailable
from .interface import Storage, StoredSample
from .memory import MemoryStore
from .store import Store, opened

__all__ = ["MemoryStore", "Storage", "Store", "StoreError", "StoreUnavailable", "StoredSample", "opened"]


def _implements(sqlite: Store, memory: MemoryStore) -> tuple[Storage, Storage]:
    """Never called: mypy checks here that both stores implement the interface."""
    return sqlite, memory
