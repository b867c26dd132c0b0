"""What every command gets, and the table/JSON printing they share."""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tabulate import tabulate

from ..clock import Clock
from ..config import Config, to_fleet
from ..errors import InputError
from ..reports.render import as_json
from ..sla.model import Fleet

DEFAULT_CONFIG = "config/monitor.yaml"  # where commands look without --config, and where init writes


@dataclass(frozen=True)
class Context:
    cfg: Config
    db_path: str
    now_ms: int  # --now, or the wall clock's instant when the command started
    by: str
    clock: Clock  # the wall clock, for what must not follow --now (receivers' timestamps)

    @functools.cached_property
    def fleet(self) -> Fleet:
        """The config as the engine's frozen dataclasses, made when first asked for: ``run`` makes its own,
        and a second copy of 20,000 probes' specs would be 2 MB of its memory."""
        return to_fleet(self.cfg)

    def check_region(self, name: str) -> None:
        """InputError unless ``name`` is a configured region."""
        names = [r.name for r in self.cfg.regions]
        if name not in names:
            raise InputError(f"--region {name!r} is not a region in the config (known: {', '.join(names)})")

    def check_component(self, region: str, name: str) -> None:
        """InputError unless ``name`` is a component of ``region``."""
        names = [c.name for r in self.cfg.regions if r.name == region for c in r.components]
        if name not in names:
            raise InputError(f"--component {name!r} is not a component of {region} (known: {', '.join(names)})")


def _cell(value: object) -> object:
    """A table cell: minutes and other fractional figures to two places, as the reports print them (the
    JSON keeps them whole)."""
    return f"{value:.2f}" if isinstance(value, float) else value


def emit_rows(rows: list[dict], fmt: str, columns: list[str],
              extra: Callable[[dict], str] | None = None, extra_header: str = "") -> None:
    """Print rows as JSON, or as a table of ``columns`` (plus one computed column)."""
    if fmt == "json":
        sys.stdout.write(as_json(rows))
        return
    if not rows:
        print("(none)")
        return
    headers = columns + ([extra_header] if extra else [])
    table = [[_cell(row.get(c)) for c in columns] + ([extra(row)] if extra else []) for row in rows]
    print(tabulate(table, headers, disable_numparse=True))


def read_input(path: str) -> bytes:
    """A file a command imports, or an InputError saying why it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None
