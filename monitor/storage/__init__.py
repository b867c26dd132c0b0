"""SQLite storage through sqlite-utils: schema, migrations, samples, segments, records."""
from .store import Store, StoreError, StoreUnavailable, opened

__all__ = ["Store", "StoreError", "StoreUnavailable", "opened"]
