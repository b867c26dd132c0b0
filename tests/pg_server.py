"""A real PostgreSQL server for the tests (Debian's ``postgresql`` package, installed by ``.ci/run``):
a cluster of its own in a temporary directory, on a free loopback port, with password authentication,
started once per test run. ``fresh_url()`` gives each store a schema of its own (cheap, and as empty as
a new database)."""
from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

USER, PASSWORD = "sla", "pg-secret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binaries() -> Path | None:
    """The newest installed server's bin directory (initdb, pg_ctl), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def server_env() -> dict[str, str]:
    """The environment without libfaketime (`make test-dates`): the server keeps the real clock. The store
    writes the instants the code gives it, never the server's now()."""
    return {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME", "DONT_FAKE_MONOTONIC")}


class PgServer:
    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="sla-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._schemas = itertools.count(1)
        # PostgreSQL refuses to run as root: as root, the cluster belongs to the package's own user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, text=True, cwd=self.root,
                       env=server_env())

    def start(self) -> "PgServer":
        if self.as_user:
            shutil.chown(self.root, "postgres")
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.as_user:
            shutil.chown(pwfile, "postgres")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", USER, "--pwfile", str(pwfile),
                  "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync")
        # No fsync: a test server's data is thrown away; the tests check what the store commits, not disks.
        self.resume()
        return self

    def resume(self) -> None:
        """Start the server (again, on the same port, with the same data)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200", "start")

    def postmaster_pid(self) -> int:
        """The server's main process (its backends are its children)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def pause(self) -> None:
        """Stop the server as an administrator would (``-m fast``: sessions ended, data kept)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True, cwd=self.root, env=server_env())
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres", password: str = PASSWORD, **options: str) -> str:
        query = "&".join(f"{k}={quote(v)}" for k, v in options.items())
        return f"postgresql://{USER}:{quote(password)}@127.0.0.1:{self.port}/{database}" + (f"?{query}" if query else "")

    def fresh_url(self) -> str:
        """A URL whose connections live in a new, empty schema of their own."""
        import psycopg

        schema = f"t{next(self._schemas)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return self.url(options=f"-c search_path={schema}")

    def execute(self, sql: str, database: str = "postgres") -> list[tuple]:
        """A statement as the server's superuser (tests look inside the store with it)."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []
