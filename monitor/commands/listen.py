"""`sla-monitor hooks listen`: a local receiver for trying alerts before any real destination exists.
It prints one line per alert that Alertmanager notifies (its webhook_configs) and per event the daemon
posts (a `webhook` destination), with the path it came to (``/pager``, ``/chat``: one per receiver),
and answers 200. It checks nothing and keeps nothing: a tool for a first try on one's own machine."""
from __future__ import annotations

import argparse
import json

from ..errors import InputError
from .parsing import valid_listen


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--listen", default="127.0.0.1:9099", metavar="HOST:PORT",
                   help="where to listen (default 127.0.0.1:9099)")


def _at(value: object, *keys: str) -> str:
    """``value[k1][k2]…`` as text, or "?" where the body has no such field (it checks nothing else)."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return "?" if value is None else str(value)


def lines(path: str, body: object) -> list[str]:
    """What one POST says, a line per alert or event: Alertmanager's notification, or an sla-monitor
    event, or (anything else) its size."""
    if isinstance(body, dict) and isinstance(body.get("alerts"), list):  # Alertmanager's webhook
        return [f"{path} {_at(a, 'status')} {_at(a, 'labels', 'alertname')} {_at(a, 'labels', 'region')} "
                f"severity={_at(a, 'labels', 'severity')}: {_at(a, 'annotations', 'summary')}" for a in body["alerts"]]
    if isinstance(body, dict) and "type" in body and "summary" in body:  # an sla-monitor webhook event
        return [f"{path} event {_at(body, 'type')} {_at(body, 'region')} severity={_at(body, 'severity')}: "
                f"{_at(body, 'summary')}"]
    return [f"{path} {len(json.dumps(body))} bytes of JSON"]


def cmd_listen(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C, printing what arrives."""
    from aiohttp import web  # only here: other commands start without aiohttp

    host, _, port = args.listen.rpartition(":")
    if not valid_listen(args.listen) or int(port) == 0:  # a port of its own: the printed address must be it
        raise InputError(f"--listen {args.listen!r}: expected HOST:PORT, e.g. 127.0.0.1:9099")

    async def receive(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            print(f"{request.path} not JSON ({request.content_length or 0} bytes)", flush=True)
            return web.Response(status=400, text="expected JSON")
        for line in lines(request.path, body):
            print(line, flush=True)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", receive)
    print(f"listening on http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    try:
        web.run_app(app, host=host, port=int(port), print=None, handle_signals=True)
    except OSError as exc:
        raise InputError(f"--listen {args.listen}: {exc.strerror or exc}") from None
    return 0

