"""How every command is declared: a summary, a description and examples in its --help, and the same
``--format`` choices wherever rows are printed."""
from __future__ import annotations

import argparse
import textwrap

from ..storage.errors import LARGEST_INTEGER

ROWS = ["table", "json"]  # what every command that prints rows offers; table is for people


def whole_number(text: str) -> int:
    """argparse type of record ids and counts: a whole number from 1 to SQLite's largest integer, else
    a usage error (exit 2) that says so, instead of an overflow deep in the store."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= LARGEST_INTEGER:
        raise argparse.ArgumentTypeError(f"{text} is out of range: give a whole number from 1 to {LARGEST_INTEGER}")
    return value


def valid_listen(text: str) -> bool:
    """``HOST:PORT`` with a host and a port 0–65535 (what ``run --listen`` and ``hooks listen`` take)."""
    host, _, port = text.rpartition(":")
    return bool(host) and port.isdigit() and int(port) <= 65535 and not any(c.isspace() for c in host)


def command(sub: argparse._SubParsersAction, name: str, summary: str, *examples: str,
            details: str = "") -> argparse.ArgumentParser:
    """A (sub)command whose ``--help`` says what it does (``summary``, then ``details``) and shows
    ``examples`` (whole command lines)."""
    description = "\n\n".join(textwrap.fill(text, 90) for text in (summary[0].upper() + summary[1:] + ".", details)
                                if text)
    epilog = "examples:\n" + "\n".join(f"  {example}" for example in examples) if examples else None
    return sub.add_parser(name, help=summary, description=description, epilog=epilog,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def group(sub: argparse._SubParsersAction, name: str, summary: str, *examples: str) -> argparse._SubParsersAction:
    """A command made of actions (``maintenance add``, ``maintenance list``…): where its actions go."""
    return command(sub, name, summary, *examples).add_subparsers(dest="action", required=True, metavar="ACTION")


def rows_format(parser: argparse.ArgumentParser) -> None:
    """``--format table|json`` (table by default), as every command that prints rows takes it."""
    parser.add_argument("--format", choices=ROWS, default="table", help="table (default) or json")


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every command and sub-command under ``parser`` by its words (``"maintenance add"``): for the
    CLI reference and the tests that read each one's --help."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found[name] = child
                found.update({f"{name} {words}": grandchild for words, grandchild in subcommands(child).items()})
    return found
