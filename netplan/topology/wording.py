"""How values are named in messages: `got the number 5`, `got a list`."""

from __future__ import annotations

import difflib
import re
import unicodedata
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


def tidied(name: str, longest: int) -> str:
    """`name` with what a name may not hold taken out, for a hint: a lookalike letter
    becomes its ASCII letter (fullwidth w, Cyrillic a), any other run of
    characters outside letters, digits, '_', '.' and '-' one '-', and it starts with a
    letter or digit (`my lab` → `my-lab`, `../x` → `x`). Empty when nothing is left."""
    text = re.sub(r"[^A-Za-z0-9_.-]+", "-", "".join(_ascii_letter(char) for char in name))
    return text.lstrip("_.-")[:longest].rstrip("-")


def _ascii_letter(char: str) -> str:
    if char.isascii():
        return char
    folded = unicodedata.normalize("NFKC", char)
    if folded.isascii():
        return folded
    words = unicodedata.name(char, "").split()
    if len(words) > 2 and words[-2] == "LETTER" and len(words[-1]) == 1:
        return words[-1].lower() if "SMALL" in words else words[-1]
    return "-"
