"""SQLite storage through sqlite-utils: schema, migrations, samples, segments, records."""
from .store import Store, StoreError, opened

__all__ = ["Store", "StoreError", "opened"]
