"""What a command was asked to print: the format it reports in, and what an error
document in that format names (netplan/error_document.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MACHINE_READABLE = ("json", "junit", "github")


@dataclass(frozen=True)
class Output:
    """The command (`check`, `lab status`), its format (`text`, `json`, `junit`,
    `github`: `--format`, or `json` for `--json`), the file it works on and the
    format_version of its JSON."""

    command: str
    format: str
    file: Path | None = None
    json_version: int = 1

    @property
    def machine_readable(self) -> bool:
        return self.format in MACHINE_READABLE
