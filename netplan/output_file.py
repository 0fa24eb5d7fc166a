"""Files a command writes for the user (a saved plan, a drawing): whole or not at all, and
never over the file the command reads; a path that cannot be written is one line."""

from __future__ import annotations

import os
from pathlib import Path

from netplan.errors import NetplanError


def write_whole(path: Path, data: bytes, what: str, source: Path | None = None) -> None:
    """`data` to `path`, through a temporary file beside it renamed over it: a reader
    never sees half of it. Refuses to replace `source` (the topology file read)."""
    if source is not None and path.exists() and path.resolve() == source.resolve():
        raise NetplanError(f"{path}: is the topology file itself; the {what} would replace it "
                           "(hint: give another path)")  # fmt: skip
    if path.is_dir():
        raise NetplanError(f"{path}: is a directory (hint: give a file's path for the {what})")
    if not path.parent.is_dir():
        raise NetplanError(f"{path}: no such directory {path.parent} (hint: create it first)")
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise NetplanError(f"{path}: cannot write the {what} there: {error.strerror} "
                           "(hint: give a path in a directory you can write to)") from None
