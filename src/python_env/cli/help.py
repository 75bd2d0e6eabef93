"""Help text and argument checks shared by the commands: plain-text help with defaults, choices
that suggest the closest valid value, and output files that are never overwritten unasked."""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from python_env.errors import InvalidRequest

_LITERAL = re.compile(r"``([^`]+)``")


def plain(doc: str | None) -> str:
    """A module docstring as help text: reStructuredText's double backticks dropped."""
    return _LITERAL.sub(r"\1", doc or "").strip()


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions kept as written; an option's default shown when it has a value."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        unset = default is None or default is False or default == argparse.SUPPRESS
        if unset or "default" in text or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


def command(sub: Any, name: str, summary: str, doc: str | None) -> argparse.ArgumentParser:
    """A subcommand's parser: ``summary`` in ``python-env --help``, ``doc`` in its own."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=summary, description=plain(doc), formatter_class=Formatter
    )
    return parser


def did_you_mean(value: str, valid: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` when a valid value is close to ``value``, else ""."""
    close = difflib.get_close_matches(value, list(valid), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def choice(valid: Sequence[str], what: str) -> Callable[[str], str]:
    """An argparse ``type`` accepting one of ``valid``; anything else is refused with the list
    and the closest match."""

    def check(value: str) -> str:
        if value in valid:
            return value
        raise argparse.ArgumentTypeError(
            f"unknown {what} {value!r}{did_you_mean(value, valid)}; choose from {', '.join(valid)}"
        )

    return check


def at_least(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: an integer >= ``low`` (and <= ``high`` if given)."""

    def check(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if number < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {number}")
        if high is not None and number > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {number}")
        return number

    return check


def fraction(value: str) -> float:
    """An argparse ``type``: a number in [0, 1] (a task score)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be within 0..1 (a task score), got {number}")
    return number


def refuse_overwrite(args: argparse.Namespace, *paths: Path) -> None:
    """Raise ``InvalidRequest`` if an output file exists and ``--force`` was not given."""
    folders = [str(p) for p in paths if p.is_dir()]
    if folders:
        raise InvalidRequest(f"{', '.join(folders)}: a directory, not a file to write", field="out")
    taken = [str(p) for p in paths if p.exists()]
    if taken and not args.force:
        them = "it" if len(taken) == 1 else "them"
        raise InvalidRequest(
            f"{' and '.join(taken)} already exist{'s' if len(taken) == 1 else ''}; pass --force to "
            f"overwrite {them}, or choose other paths (--out, --plot or --no-plot)",
            field="out",
        )
