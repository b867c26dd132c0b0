"""The probe side in a process of its own, and the daemon's supervision of it.

Why a process: the engine's month-to-date refresh is tens of milliseconds of pure Python. In one
process it holds the GIL while probes wait to send, and the target saw the stall (bench/RESULTS.md).

The hand-off is the store itself. The probe process commits samples, their segments and the events
they cause in one SQLite transaction, then tells the daemon what it committed over a socket pair
(``ProbeReport``); the daemon's live state, gauges and hooks read only that. So:

- kill -9 of the probe process loses only samples not yet committed (at most ``flush_interval``'s), never
  a committed one, and nothing is written twice: each sample is written once, by the process that probed
  it. The daemon sees the socket close, logs it and starts a new probe process, which restores its live
  state from the store. More than ``MAX_DEATHS`` deaths in ``DEATH_WINDOW_S`` and the daemon exits
  non-zero, for systemd (``Restart=on-failure``) or the container runtime to restart it whole.
- kill -9 of the daemon closes the socket: the probe process stops probing, flushes everything it
  probed and exits.
- SIGTERM (to either, or to both, as systemd does) flushes everything probed before the exit.
- A probe process that stops reporting (its loop stuck) is killed and restarted like a dead one.

The child runs ``main(FD, LOG_FORMAT)`` below: it imports the probes, the scheduler
and the store, not the engine or the web app, and gets its config over the socket (secrets never on a
command line).
"""
from __future__ import annotations

import asyncio
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

from ..config import Config
from ..gcpause import settle
from .handoff import ProbeReport, ProbeStart

if TYPE_CHECKING:
    from .probing import ProbeSide

log = logging.getLogger("sla_monitor.probing")
MAX_DEATHS = 5
DEATH_WINDOW_S = 60.0
RESTART_DELAY_S = 1.0
STALL_S = 30.0  # no report for this long (reports come every flush_interval): the loop is stuck
FIRST_REPORT_S = 120.0  # restoring the live state from a large store takes a while
CHILD = "import sys; from monitor.live.probe_process import main; sys.exit(main(sys.argv[1:]))"


class ProbeProcess:
    """Runs the probe side in a child process and supervises it."""

    def __init__(self, cfg: Config, db_path: str, on_report: Callable[[ProbeReport], None],
                 on_give_up: Callable[[], None], log_format: str = "text"):
        self.cfg = cfg
        self.db_path = db_path
        self.on_report = on_report
        self.on_give_up = on_give_up
        self.log_format = log_format
        self.public_url = ""
        self.month: dict = {}
        self.proc: subprocess.Popen | None = None
        self.conn: Connection | None = None
        self.restarts = 0
        self.stopping = False
        self._deaths: list[float] = []
        self._last_report = 0.0
        self._reported = False
        self._gone = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self, public_url: str, month: Mapping[str, dict]) -> None:
        """Start the probe process; its events link to ``public_url`` and carry ``month``'s figures."""
        self._loop = asyncio.get_running_loop()
        self.public_url, self.month = public_url, dict(month)
        self._spawn()

    @property
    def running(self) -> bool:
        """The probe process is alive and has reported since it started (a restarted one is not, yet)."""
        return self.proc is not None and self.proc.poll() is None and self._reported

    def _spawn(self) -> None:
        assert self._loop is not None
        ours, theirs = socket.socketpair()
        package_root = str(Path(__file__).resolve().parents[2])  # importable however the daemon was started
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, str(theirs.fileno()), self.log_format],
                                     pass_fds=(theirs.fileno(),), env=env)
        theirs.close()
        self.conn = Connection(ours.detach())
        # A child killed already (kill -9, the OOM killer) fails this send; its reader below sees the end
        # of the socket and counts it as one more death, like any other.
        self._send(ProbeStart(self.cfg, self.db_path, self.public_url, self.month))
        self._gone.clear()
        self._last_report, self._reported = self._loop.time(), False
        threading.Thread(target=self._receive, args=(self.conn, self.proc), name="probe-process-reports",
                         daemon=True).start()
        log.info("event=probe_process_started pid=%d", self.proc.pid)

    def _receive(self, conn: Connection, proc: subprocess.Popen) -> None:
        """Reports to the loop as they arrive; the socket's end means the process is gone."""
        assert self._loop is not None
        try:
            while True:
                report = conn.recv()
                self._loop.call_soon_threadsafe(self._report, report)
        except (EOFError, OSError):
            pass
        proc.wait()
        self._loop.call_soon_threadsafe(self._exited, proc)

    def _report(self, report: ProbeReport) -> None:
        assert self._loop is not None
        self._last_report, self._reported = self._loop.time(), True
        self.on_report(report)

    def _exited(self, proc: subprocess.Popen) -> None:
        assert self._loop is not None
        if proc is not self.proc:
            return
        if self.conn is not None:
            self.conn.close()
        self._gone.set()
        if self.stopping:
            return
        now = self._loop.time()
        self._deaths = [t for t in self._deaths if now - t < DEATH_WINDOW_S] + [now]
        if len(self._deaths) > MAX_DEATHS:
            log.critical("event=probe_process_gave_up deaths=%d window_s=%g (the daemon exits for its service "
                         "manager to restart it)", len(self._deaths), DEATH_WINDOW_S)
            self.on_give_up()
            return
        log.error("event=probe_process_died pid=%d code=%s (restarting in %g s; committed samples are safe)",
                  proc.pid, proc.returncode, RESTART_DELAY_S)
        self.restarts += 1
        self._loop.call_later(RESTART_DELAY_S, self._respawn)

    def _respawn(self) -> None:
        if not self.stopping:
            self._spawn()

    def set_month(self, month: Mapping[str, dict]) -> None:
        """The engine's latest month-to-date context, for the events recorded from now on."""
        self.month = dict(month)
        self._send(("month", self.month))

    def check(self) -> None:
        """Kill a probe process that stopped reporting (its restart follows as for any death)."""
        assert self._loop is not None
        silent = self._loop.time() - self._last_report
        if self.proc is not None and self.proc.poll() is None and not self.stopping \
                and silent > (STALL_S if self._reported else FIRST_REPORT_S):
            log.error("event=probe_process_stalled pid=%d silent_s=%.0f (killing it)", self.proc.pid, silent)
            self.proc.kill()

    def _send(self, message: object) -> None:
        if self.conn is not None and not self.conn.closed:
            try:
                self.conn.send(message)
            except OSError:  # it is gone; _exited handles that
                pass

    async def stop(self) -> None:
        """Ask the probe process to stop (it flushes everything probed), wait for its last report and exit."""
        self.stopping = True
        if self.proc is None or self._gone.is_set():
            return
        self._send(("stop",))
        try:
            await asyncio.wait_for(self._gone.wait(), self.cfg.daemon.shutdown_grace / 1000 + 10)
        except asyncio.TimeoutError:
            log.error("event=probe_process_kill pid=%d (it did not stop in time)", self.proc.pid)
            self.proc.kill()
            await self._gone.wait()


# The child.

def _send_reports(conn: Connection, outgoing: queue.SimpleQueue) -> None:
    """Pickle and send off the loop's thread: a slow reader never stalls a probe."""
    while (report := outgoing.get()) is not None:
        try:
            conn.send(report)
        except OSError:  # the daemon is gone; the receiver stops the loop
            return


def _receive_commands(conn: Connection, loop: asyncio.AbstractEventLoop, side: ProbeSide, stop: asyncio.Event) -> None:
    try:
        while True:
            command = conn.recv()
            if command[0] == "month":
                loop.call_soon_threadsafe(setattr, side.recorder, "month", command[1])
            elif command[0] == "stop":
                break
    except (EOFError, OSError):  # the daemon is gone: stop probing and flush
        log.warning("event=daemon_gone (stopping probing; flushing what was probed)")
    loop.call_soon_threadsafe(stop.set)


async def _run_child(conn: Connection, start: ProbeStart) -> None:
    from ..clock import SYSTEM
    from ..storage import open_store
    from ..storage.spool import spool_for
    from .probing import ProbeSide

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    outgoing: queue.SimpleQueue = queue.SimpleQueue()
    sender = threading.Thread(target=_send_reports, args=(conn, outgoing), name="reports", daemon=True)
    sender.start()
    side = ProbeSide(start.cfg, lambda: open_store(start.db_path), SYSTEM, outgoing.put, start.public_url, start.month,
                     spool_for(start.db_path, start.cfg.storage))
    threading.Thread(target=_receive_commands, args=(conn, loop, side, stop), name="commands", daemon=True).start()
    await side.start()
    settle()  # what start built lives as long as the process
    await stop.wait()
    await side.stop()
    outgoing.put(None)
    sender.join(timeout=10)


def main(argv: list[str]) -> int:
    """The probe process: ``argv`` is the socket's descriptor and the log format."""
    from .. import logs

    logs.setup(argv[1] if len(argv) > 1 else "text")
    conn = Connection(int(argv[0]))
    start: ProbeStart = conn.recv()
    asyncio.run(_run_child(conn, start))
    return 0
