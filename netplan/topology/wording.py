"""How values are named in messages: `got the number 5`, `got a list`."""

from __future__ import annotations

import difflib
from collections.abc import Collection
from datetime import date

_LONGEST = 40


def describe(value: object) -> str:
    """A short phrase naming a value parsed from YAML, for `expected X, got <phrase>`."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {shorten(value)!r}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bytes):
        return "binary data"
    return f"a {type(value).__name__}"


def shorten(text: str) -> str:
    return text if len(text) <= _LONGEST else text[: _LONGEST - 3] + "..."


def suggest(name: str, known: Collection[str], what: str) -> str:
    """A hint for an unknown name: the closest known one, else the known ones."""
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    if not known:
        return f"no {what} are defined"
    listed = sorted(known)
    more = f" and {len(listed) - 10} more" if len(listed) > 10 else ""
    return f"known {what}: " + ", ".join(listed[:10]) + more
