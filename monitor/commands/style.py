"""Colour for people, plain text for everything else: ANSI colours only when the stream is a terminal,
``NO_COLOR`` (https://no-color.org) is unset or empty, and ``TERM`` is not ``dumb``."""
from __future__ import annotations

import os
from typing import TextIO

CODES = {"red": "31", "green": "32", "yellow": "33", "bold": "1", "dim": "2"}


def coloured(stream: TextIO) -> bool:
    """Whether text written to ``stream`` may carry colour."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def paint(text: str, colour: str, stream: TextIO) -> str:
    """``text`` in ``colour`` (a key of CODES) when ``stream`` may carry colour, else unchanged."""
    return f"\033[{CODES[colour]}m{text}\033[0m" if coloured(stream) else text
