"""Where each value of the topology file was written, by dotted field path.

Paths are what users see: `containers.web.networks.front.ipv4`, `aliases[1]`; the root
is `""`. A value reached through a YAML alias (`*name`) or merge key (`<<`) is linked to
the place it was written, so a problem inside it points at the text to fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import NamedTuple

from netplan.errors import Problem

PathPart = str | int
_MAX_STEPS = 10_000
"""Bounds a lookup even if keys containing '.' made links point into each other."""


def dotted(parts: Iterable[PathPart]) -> str:
    """`("containers", "web", "aliases", 1)` → `containers.web.aliases[1]`."""
    path = ""
    for part in parts:
        path = child(path, part)
    return path


def child(path: str, part: PathPart) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    return f"{path}.{part}" if path else part


def parent(path: str) -> str:
    """The enclosing path; the parent of a top-level key is the root, `""`."""
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


class Pos(NamedTuple):
    line: int
    column: int
    """Both 1-based, as editors count."""


class Entry(NamedTuple):
    key: Pos | None
    """The key of a mapping entry; None for list items and the root."""
    value: Pos
    scalar: bool
    """A non-empty scalar: problems about the value point at the value, else at the key."""
    text: str | None = None
    """The source text of a plain scalar that YAML typed as something other than text."""


Place = tuple[int, int]
"""Line and column, both 1-based: what a Pos holds, as a plain tuple."""
Recorded = tuple[Place | None, Place, bool, str | None]
"""An Entry's fields as recorded, plain tuples: the parser records every value of the
file (5,000 at 1,000 containers) and a load looks up a handful, so the Entry and its Pos
are made when looked up (a plain tuple costs a tenth of a NamedTuple to make)."""


class Positions:
    def __init__(self, file: str) -> None:
        self.file = file
        self.entries: dict[str, Recorded] = {}
        self.links: dict[str, str] = {}

    def add(self, path: str, entry: Recorded) -> None:
        self.entries[path] = entry

    def link(self, path: str, target: str) -> None:
        """What is under `path` was written under `target` (an alias or a merge)."""
        self.links[path] = target

    def copy(self, path: str, source: str) -> None:
        """Make `path` point where `source` was written (e.g. a list item named by it)."""
        found = self._find(source)
        if found is not None and found[1]:
            self.entries.setdefault(path, found[0])

    def find(self, path: str) -> tuple[Entry, bool] | None:
        """The entry of `path`, or of its nearest recorded ancestor; and whether it is exact."""
        found = self._find(path)
        return None if found is None else (_entry(found[0]), found[1])

    def _find(self, path: str) -> tuple[Recorded, bool] | None:
        full = candidate = path
        for _ in range(_MAX_STEPS):
            if candidate == full and candidate in self.entries:
                return self.entries[candidate], True
            if candidate in self.links:
                full = candidate = self.links[candidate] + full[len(candidate) :]
                continue
            if candidate in self.entries:
                return self.entries[candidate], False
            if not candidate:
                return None
            candidate = parent(candidate)
        return None

    def text(self, path: str) -> str | None:
        found = self.find(path)
        return found[0].text if found and found[1] else None

    def locate(self, problem: Problem, at_key: bool = False) -> Problem:
        """The problem with this file and the line and column its path was written at."""
        found = self.find(problem.path)
        if found is None:
            return replace(problem, file=self.file)
        entry, exact = found
        pos = entry.value if exact and entry.scalar and not at_key else entry.key or entry.value
        return replace(problem, file=self.file, line=pos.line, column=pos.column)


def _entry(recorded: Recorded) -> Entry:
    key, value, scalar, text = recorded
    return Entry(None if key is None else Pos(*key), Pos(*value), scalar, text)
