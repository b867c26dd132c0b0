"""The SQLite store: one file, the embedded default. What it stores and how is ``sqlstore.SqlStore``'s;
this is how a file is opened, migrated and written in transactions.

Writes happen inside ``store.transaction()``; a failed command leaves the file as
it was. Instants are integer UTC milliseconds throughout.
"""
from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Iterator

import sqlite_utils

from .errors import StoreError, StoreUnavailable
from .schema import MIGRATIONS, SCHEMA_VERSION
from .sql import SqliteSql
from .sqlstore import SqlStore

BUSY_TIMEOUT_MS = 5000  # how long a writer waits for another one's write lock before it gives up


class Store(SqlStore):
    """One SQLite file through sqlite-utils, WAL mode, schema migrated forward on open."""

    def __init__(self, db: sqlite_utils.Database, path: str):
        super().__init__(SqliteSql(db.conn))
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: str | Path, create: bool = True) -> "Store":
        """Open (and if allowed create) the store; refuse files that are not ours to touch."""
        path = str(path)
        exists = Path(path).exists()
        if not exists and not create:
            raise StoreError(f"{path}: no database here (import samples or run the daemon first, or pass --db PATH)")
        if not exists:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # a second writer waits for the first, also while migrating
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.OperationalError as exc:  # the file is there but cannot be read: not a format problem
            conn.close()
            raise StoreUnavailable(f"{path}: cannot read the database ({exc}); check the file's and its folder's "
                                   "permissions (WAL creates -wal and -shm files beside it) and free space") from None
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{path}: not an SQLite database ({exc}); point --db at a sla-monitor database") from None
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreError(
                f"{path}: database schema version {version} is newer than this sla-monitor understands "
                f"({SCHEMA_VERSION}); upgrade sla-monitor"
            )
        if version > 0 and not _is_ours(conn):
            conn.close()
            raise StoreError(f"{path}: SQLite database without sla-monitor tables; point --db at a sla-monitor database")
        if version == 0 and exists and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            conn.close()
            raise StoreError(f"{path}: SQLite database of another program (no sla-monitor schema); not touching it")
        db = sqlite_utils.Database(conn)
        if version < SCHEMA_VERSION:
            with db.ensure_autocommit_on():
                db.execute("PRAGMA journal_mode=wal")
            with db.atomic():
                for migrate in MIGRATIONS[version:]:
                    migrate(db)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        store = cls(db, path)
        store.migrated_from = version
        return store

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction (nested calls become savepoints). A rollback forgets cached name ids,
        since the rows behind new ones are gone.

        The outermost one takes the write lock first (BEGIN IMMEDIATE): a deferred transaction that has
        read and then writes cannot wait for another writer (SQLite fails it at once to avoid a
        deadlock), so it would fail with "database is locked" long before the busy timeout."""
        outermost = not self.db.conn.in_transaction
        try:
            if outermost:
                self.db.execute("BEGIN IMMEDIATE")
            with self.db.atomic():  # a savepoint inside ours
                yield
            if outermost:
                self.db.execute("COMMIT")
        except BaseException as exc:
            self._forget_ids()
            if outermost and self.db.conn.in_transaction:
                self.db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise StoreUnavailable(
                    f"{self.path}: the database is locked: another writer (the daemon, or another command) held "
                    f"its write lock for more than {BUSY_TIMEOUT_MS // 1000} s; nothing was changed, try again"
                ) from None
            raise


def _is_ours(conn: sqlite3.Connection) -> bool:
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {"samples", "segments", "meta"} <= names
