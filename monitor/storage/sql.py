"""The few ways a store runs SQL, one small adapter per engine: the SQL stores (``sqlstore.py``) write
their statements once, with ``?`` placeholders and the upsert syntax SQLite and PostgreSQL share
(``INSERT … ON CONFLICT … DO UPDATE``, ``RETURNING``), and run them through this."""
from __future__ import annotations

import sqlite3
from typing import Any, Iterable, Protocol, Sequence

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


class SqliteSql:
    """``Sql`` on a ``sqlite3`` connection."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def one(self, sql: str, params: Params = ()) -> tuple | None:
        row: tuple | None = self.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Params = ()) -> list[tuple]:
        return self.conn.execute(sql, params).fetchall()

    def run(self, sql: str, params: Params = ()) -> int:
        return self.conn.execute(sql, params).rowcount

    def many(self, sql: str, rows: Iterable[Params]) -> None:
        self.conn.executemany(sql, rows)

    def dicts(self, sql: str, params: Params = ()) -> list[dict]:
        cursor = self.conn.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]
