"""Where a store is: one factory for every opener (the daemon, its probe side, the commands). A
location is a SQLite file's path, or a URL naming its backend: ``sqlite:///data/x.db`` (relative),
``sqlite:////var/lib/sla-monitor/x.db`` (absolute), as SQLAlchemy writes them."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from .errors import StoreError
from .interface import Storage
from .store import Store

SCHEMES = ("sqlite",)


def sqlite_path(location: str) -> str:
    """The SQLite file ``location`` names (StoreError for another backend or a URL without a path)."""
    if "://" not in location:
        return location
    scheme, _, rest = location.partition("://")
    if scheme not in SCHEMES:
        raise StoreError(f"storage {location!r}: {scheme}:// is not a backend this version has; give a SQLite "
                         "path or sqlite:///PATH")
    if not rest.startswith("/") or len(rest) < 2:
        raise StoreError(f"storage {location!r}: expected sqlite:///RELATIVE/PATH or sqlite:////ABSOLUTE/PATH")
    return rest[1:]


def open_store(location: str, create: bool = True) -> Storage:
    """The store at ``location``, opened (and created when allowed and missing)."""
    return Store.open(sqlite_path(location), create=create)


@contextlib.contextmanager
def opened(location: str | Path, create: bool = True) -> Iterator[Storage]:
    """Open the store at ``location`` (a path or a URL) for the length of a block."""
    store = open_store(str(location), create=create)
    try:
        yield store
    finally:
        store.close()
