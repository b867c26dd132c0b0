"""Every error the web side answers is one JSON shape: an RFC 9457 problem document
(``application/problem+json``: type, title, status, detail), with ``error`` (the detail again) kept for
the clients written against the API before it had that shape."""
from __future__ import annotations

from http import HTTPStatus

import orjson
from aiohttp import web

PROBLEM_TYPE = "application/problem+json"


def problem_body(status: int, detail: str, **extra: object) -> bytes:
    """The problem document's bytes (made by orjson: no text of the request can break the JSON)."""
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return orjson.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail, **extra,
                         "error": detail}, option=orjson.OPT_INDENT_2)


def problem(status: int, detail: str, headers: dict[str, str] | None = None, **extra: object) -> web.Response:
    """A problem document answered with ``status``."""
    return web.Response(status=status, body=problem_body(status, detail, **extra), content_type=PROBLEM_TYPE,
                        headers=headers)
