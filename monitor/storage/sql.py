"""The few ways a store runs SQL, one small adapter per engine: the SQL stores (``sqlstore.py``) write
their statements once, with ``?`` placeholders and the upsert syntax SQLite and PostgreSQL share
(``INSERT … ON CONFLICT … DO UPDATE``, ``RETURNING``), and run them through this."""
from __future__ import annotations

import contextlib
import sqlite3
from typing import Any, Iterable, Iterator, Protocol, Sequence

Params = Sequence[Any]


class Sql(Protocol):
    def one(self, sql: str, params: Params = ()) -> tuple | None:
        """The first row of a statement's result (None when it has none)."""
        ...

    def all(self, sql: str, params: Params = ()) -> list[tuple]:
        """Every row of a statement's result."""
        ...

    def run(self, sql: str, params: Params = ()) -> int:
        """Run a statement; how many rows it changed."""
        ...

    def many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run a statement once per row."""
        ...

    def dicts(self, sql: str, params: Params = ()) -> list[dict]:
        """Every row of a statement's result, as a dict by column name."""
        ...

    def stream(self, sql: str, params: Params = ()) -> Iterator[tuple]:
        """A query's rows as the engine steps through them (a year of samples never in memory at once)."""
        ...


class SqliteSql:
    """``Sql`` on a ``sqlite3`` connection. A write outside ``Store.transaction`` is committed at once,
    as sqlite-utils does: the driver would otherwise leave the transaction it opened for the statement
    going, holding the write lock against every other connection."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    @contextlib.contextmanager
    def _statement(self) -> Iterator[None]:
        """Outside a transaction, the statement's own one ends with it: committed, or rolled back."""
        was_in_transaction = self.conn.in_transaction
        try:
            yield
        except BaseException:
            if not was_in_transaction and self.conn.in_transaction:
                self.conn.rollback()
            raise
        if not was_in_transaction and self.conn.in_transaction:
            self.conn.commit()

    def one(self, sql: str, params: Params = ()) -> tuple | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def all(self, sql: str, params: Params = ()) -> list[tuple]:
        # Every row read: a statement left with rows to step (INSERT … RETURNING) is not finished.
        with self._statement():
            return self.conn.execute(sql, params).fetchall()

    def run(self, sql: str, params: Params = ()) -> int:
        with self._statement():
            return self.conn.execute(sql, params).rowcount

    def many(self, sql: str, rows: Iterable[Params]) -> None:
        with self._statement():
            self.conn.executemany(sql, rows)

    def stream(self, sql: str, params: Params = ()) -> Iterator[tuple]:
        yield from self.conn.execute(sql, params)

    def dicts(self, sql: str, params: Params = ()) -> list[dict]:
        cursor = self.conn.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]
