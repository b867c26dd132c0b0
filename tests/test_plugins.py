"""A new hook destination and a new probe kind are one module each plus their line in a registry: a
copy of the package gets a throwaway destination (a chat service with a token of its own) and a
throwaway probe kind (a line echoed over TCP), and with no other file touched the config validates
them, their secrets are redacted, the destination is delivered to, the probe runs, and the config
reference documents both."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
TOKEN = "chat-t0ken-9f8e7d"  # the destination's own secret

CHAT = '''\
"""A chat service: JSON with the room and the text, the token in a header of its own."""
from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from ..event import Event
from .base import SECRET, DestinationSettings


class ChatDestination(DestinationSettings):
    """A chat room's incoming messages."""

    type: Literal["chat"]
    """A chat room's incoming messages."""
    token: str = Field(pattern=r"^chat-", json_schema_extra=SECRET)
    """The room's token (starts with chat-); use ${VAR}."""
    room: str = "ops"
    """The room the messages go to."""

    def build_payload(self, event: Event, now_ms: int) -> tuple[bytes, dict]:
        body = {"room": self.room, "text": f"{event.type}: {event.summary}"}
        return json.dumps(body).encode(), {"X-Chat-Token": self.token, **self.headers}
'''

ECHO = '''\
"""A line echoed over TCP: what is sent comes back."""
from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import Field

from .base import Outcome, ProbeSettings, Resources


class EchoMismatch(Exception):
    """This kind's own library error: the answer was not the line sent."""


class EchoProbe(ProbeSettings):
    kind: Literal["echo"]
    """A line sent over TCP and echoed back."""
    host: str = Field(min_length=1)
    """Host name or address."""
    port: int = Field(ge=1, le=65535)
    """Port."""
    line: str = "ping"
    """The line sent."""

    async def check(self, ctx: Resources) -> Outcome:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(self.line.encode() + b"\\n")
            answer = (await reader.readline()).decode().strip()
        finally:
            writer.close()
        if answer != self.line:
            raise EchoMismatch(answer)
        return Outcome(ok=True)

    def target_host(self) -> str | None:
        return self.host

    def target_errors(self) -> tuple[type[BaseException], ...]:
        return (EchoMismatch,)

    def describe(self, exc: BaseException) -> str | None:
        return f"echo: got {str(exc)!r} back" if isinstance(exc, EchoMismatch) else None
'''


def register(registry: Path, module: str, cls: str) -> None:
    """The registry's line: the module's class imported and named in the Union."""
    text = registry.read_text()
    text = text.replace("\n\n# The registry:", f"\nfrom .{module} import {cls}\n\n# The registry:", 1)
    text = text.replace("Kinds = Union[", f"Kinds = Union[{cls}, ", 1)
    registry.write_text(text)


def package_with_plugins(tmp_path: Path) -> Path:
    """A copy of the package with the two new modules and their registry lines; returns its root."""
    root = tmp_path / "pkg"
    shutil.copytree(ROOT / "monitor", root / "monitor", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "monitor" / "destinations" / "chat.py").write_text(CHAT)
    (root / "monitor" / "checks" / "echo.py").write_text(ECHO)
    register(root / "monitor" / "destinations" / "__init__.py", "chat", "ChatDestination")
    register(root / "monitor" / "checks" / "__init__.py", "echo", "EchoProbe")
    return root


def touched(root: Path) -> list[str]:
    """The files of the copy that differ from the package's own, or are new."""
    found = []
    for path in sorted((root / "monitor").rglob("*.py")):
        original = ROOT / path.relative_to(root)
        if not original.exists() or original.read_bytes() != path.read_bytes():
            found.append(path.relative_to(root).as_posix())
    return found


def config(tmp_path: Path, chat_url: str, echo_port: int, token: str = TOKEN, name: str = "plugins") -> Path:
    path = tmp_path / f"{name}.yaml"
    base = (FIXTURES / "spec.yaml").read_text().replace("unused.db", str(tmp_path / "p.db"))
    path.write_text(base + textwrap.dedent(f"""\
        vantage_health:
          probes:
            - {{id: echo-1, kind: echo, host: 127.0.0.1, port: {echo_port}, line: hello}}
            - {{id: echo-2, kind: echo, host: 127.0.0.1, port: {echo_port}, line: liar}}
        hooks:
          destinations:
            - {{name: chat, type: chat, url: "{chat_url}", token: "{token}", room: sre}}
        """))
    return path


def cli(root: Path, cfg: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-m", "monitor", "--config", str(cfg), *args], capture_output=True,
                          text=True, env=env, timeout=60, cwd=root)


async def serve_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    line = (await reader.readline()).decode().strip()
    writer.write(("not-" + line if line == "liar" else line).encode() + b"\n")  # "liar" gets a wrong answer
    await writer.drain()
    writer.close()


async def test_a_new_destination_and_probe_kind_are_one_module_each(tmp_path):
    root = package_with_plugins(tmp_path)
    assert touched(root) == ["monitor/checks/__init__.py", "monitor/checks/echo.py",
                             "monitor/destinations/__init__.py", "monitor/destinations/chat.py"]
    received: list[tuple[dict, dict]] = []
    answer = {"status": 200}

    async def chat(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.json()))
        if answer["status"] != 200:  # a service that echoes the token in its error page
            return web.Response(status=answer["status"], text=f"bad token {request.headers['X-Chat-Token']}")
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/rooms/hook", chat)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    chat_url = f"http://127.0.0.1:{runner.addresses[0][1]}/rooms/hook"
    echo = await asyncio.start_server(serve_echo, "127.0.0.1", 0)
    echo_port = echo.sockets[0].getsockname()[1]
    try:
        cfg = config(tmp_path, chat_url, echo_port)
        # validated: the new settings check out, a bad value is refused where it is, without its secret shown
        ok = await asyncio.to_thread(cli, root, cfg, "check-config")
        assert ok.returncode == 0, ok.stderr
        bad = await asyncio.to_thread(cli, root, config(tmp_path, chat_url, echo_port, "t0ken-without-prefix", "bad"),
                                      "check-config")
        assert bad.returncode == 2, bad.stderr
        assert "hooks.destinations[0].token: (hidden): String should match pattern '^chat-'" in bad.stderr
        assert "t0ken-without-prefix" not in bad.stderr
        # delivered, with its own payload and header
        sent = await asyncio.to_thread(cli, root, cfg, "hooks", "test", "chat")
        assert sent.returncode == 0, sent.stdout + sent.stderr
        headers, body = received[-1]
        assert headers["X-Chat-Token"] == TOKEN and body["room"] == "sre" and body["text"].startswith("test: ")
        # redacted: the service's error carries the token; what is printed does not
        answer["status"] = 401
        refused = await asyncio.to_thread(cli, root, cfg, "hooks", "test", "chat")
        assert refused.returncode == 1 and "HTTP 401" in refused.stdout, refused.stdout
        assert TOKEN not in refused.stdout + refused.stderr and "/rooms/hook" not in refused.stdout
        # run: the kind's check passes, and its own library error is named in its own words
        ran = await asyncio.to_thread(cli, root, cfg, "probe", "--once", "--format", "json", "echo-1", "echo-2")
        samples = {s["probe"]: s for s in json.loads(ran.stdout)}
        assert ran.returncode == 1 and samples["echo-1"]["result"] == "ok", ran.stdout + ran.stderr
        assert samples["echo-2"]["result"] == "failed" and samples["echo-2"]["detail"] == "echo: got 'not-liar' back"
        # documented: the config reference has both, with their settings' own words
        documented = subprocess.run([sys.executable, "-c", "from monitor.config.reference import render; "
                                     "print(render())"], capture_output=True, text=True, check=True,
                                    env={**os.environ, "PYTHONPATH": str(root)}, cwd=root).stdout
        assert "### `kind: echo`" in documented and "| `line` | text | `ping` | The line sent. |" in documented
        assert "### `type: chat`" in documented and "The room's token (starts with chat-); use ${VAR}." in documented
    finally:
        echo.close()
        await runner.cleanup()
