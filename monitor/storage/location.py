"""Where a store is: one factory for every opener (the daemon, its probe side, the commands). A
location is a SQLite file's path, or a URL naming its backend: ``sqlite:///data/x.db`` (relative),
``sqlite:////var/lib/sla-monitor/x.db`` (absolute), as SQLAlchemy writes them, or
``postgresql://user:password@host:5432/dbname`` (any libpq URL: ``?service=…``, ``?sslmode=…``)."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, Protocol, Sequence
from urllib.parse import urlsplit, urlunsplit

from ..values import POSTGRES_SCHEMES, is_postgres
from .daemon_lock import DaemonLock
from .errors import StoreError
from .interface import Storage
from .sqlstore import SqlStore
from .store import Store

SCHEMES = ("sqlite", *POSTGRES_SCHEMES)


def shown(location: str) -> str:
    """``location`` fit for a message or a log: a URL's password replaced by ``***`` (also in a URL too
    broken to parse, where everything between the scheme and the host is hidden)."""
    try:
        parts = urlsplit(location)
        password = parts.password
    except ValueError:
        scheme, _, rest = location.partition("://")
        return f"{scheme}://***@{rest.rpartition('@')[2]}" if "@" in rest else location
    if password is None:
        return location
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}:***@{host}"))


def new_file(location: str) -> bool:
    """Whether ``location`` is a SQLite file that does not exist yet (a failed import removes it again)."""
    return not is_postgres(location) and not Path(sqlite_path(location)).exists()


def sqlite_path(location: str) -> str:
    """The SQLite file ``location`` names (StoreError for another backend or a URL without a path)."""
    if "://" not in location:
        return location
    scheme, _, rest = location.partition("://")
    if scheme not in SCHEMES:
        raise StoreError(f"storage {location!r}: {scheme}:// is not a backend this version has; give a SQLite "
                         "path, sqlite:///PATH or postgresql://USER@HOST/DBNAME")
    if is_postgres(location):
        raise StoreError(f"storage: {scheme}:// is a PostgreSQL database, not a file")
    if not rest.startswith("/") or len(rest) < 2:
        raise StoreError(f"storage {location!r}: expected sqlite:///RELATIVE/PATH or sqlite:////ABSOLUTE/PATH")
    return rest[1:]


def open_store(location: str, create: bool = True) -> Storage:
    """The store at ``location``, opened (and created when allowed and missing); refused while it is
    an unfinished copy (``store copy`` stopped half-way)."""
    from .copy import UNFINISHED

    store = _open_sql(location, create)
    source = store.meta_value(UNFINISHED)
    if source is not None:
        store.close()
        raise StoreError(f"{store.path}: an unfinished copy of {source} (`store copy` was stopped); run "
                         f"`sla-monitor store copy --from {source} --to {store.path}` again to finish it")
    return store


def _open_sql(location: str, create: bool) -> SqlStore:
    if is_postgres(location):
        from .postgres import PgStore  # psycopg is loaded only for a PostgreSQL store

        return PgStore.open(location, create=create)
    return Store.open(sqlite_path(location), create=create)


def migrate(location: str) -> tuple[str, int]:
    """Create or migrate forward the store at ``location``: how it names itself in messages (never a
    password) and its schema's version before (0: it had none)."""
    store = _open_sql(location, create=True)
    try:
        return store.path, store.migrated_from
    finally:
        store.close()


class DaemonLocking(Protocol):
    def acquire(self, now_ms: int) -> None: ...

    def check(self, now_ms: int) -> bool: ...

    def release(self) -> None: ...


# What a daemon holds a store's lock for: one daemon records and delivers the events (it alerts), and one
# writes each vantage's samples. A SQLite file is one daemon's, whatever its roles.
ALERTING = "alerting"


def vantage_role(vantage: str) -> str:
    """The role of the daemon writing ``vantage``'s samples."""
    return f"vantage {vantage}"


def locked_message(role: str) -> str:
    """What a daemon refused ``role`` is told, before who holds it."""
    if role == ALERTING:
        return "another sla-monitor daemon already runs on this database"
    return f"another sla-monitor daemon already probes as {role} on this database"


def daemon_lock(location: str, roles: Sequence[str] = (ALERTING,)) -> DaemonLocking:
    """The lock that keeps a second daemon in one of ``roles`` off the store at ``location``."""
    if is_postgres(location):
        from .postgres import PgDaemonLock

        return PgDaemonLock(location, roles)
    return DaemonLock(sqlite_path(location))


def copy_between(source: str, target: str) -> dict[str, int]:
    """``store copy``: the store at ``source`` (which must exist) into the new or empty one at ``target``
    (or on with an unfinished copy there); the rows the target holds afterwards, by table."""
    from .copy import copy_store

    origin = _open_sql(source, create=False)
    try:
        destination = _open_sql(target, create=True)
        try:
            return copy_store(origin, destination)
        finally:
            destination.close()
    finally:
        origin.close()


@contextlib.contextmanager
def opened(location: str | Path, create: bool = True, dry_run: bool = False) -> Iterator[Storage]:
    """Open the store at ``location`` (a path or a URL) for the length of a block. A ``dry_run`` of a
    command that writes creates no store: where none exists yet, it plans against an empty one in memory."""
    if dry_run and new_file(str(location)):
        from .memory import MemoryStore

        yield MemoryStore()
        return
    store = open_store(str(location), create=create)
    try:
        yield store
    finally:
        store.close()
