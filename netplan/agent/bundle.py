"""The agent as a zipapp for remote hosts: `netplan/__init__.py` and `netplan/agent/`, which
use the standard library only (netlink requests are packed by netplan/agent/nlmsg.py).

Built in-process from the installed modules, reproducibly: the same sources give the same
bytes (sorted entries, fixed timestamps and modes), and the file is named after a hash of
its contents, so a host keeps one cached copy per agent version. Controller-side only:
the agent never imports this module, and it is left out of the bundle.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import netplan

MAIN = b'''\
"""netplan's agent: one JSON request per line on stdin, one response per line on stdout.

Run as `python3 agent-<hash>.pyz`. The first run unpacks the archive beside it
(agent-<hash>/), so that Python can cache bytecode there: later runs compile nothing.
Where that cannot be written, the agent runs from the archive itself.
"""
import os
import shutil
import sys
import zipfile

archive = os.path.dirname(os.path.abspath(__file__))
unpacked = archive[: -len(".pyz")]
if not os.path.isdir(unpacked):
    partial = f"{unpacked}.{os.getpid()}.partial"
    try:
        with zipfile.ZipFile(archive) as files:
            files.extractall(partial)
        os.rename(partial, unpacked)
    except OSError:  # read-only, or another agent unpacked it first: both are fine
        shutil.rmtree(partial, ignore_errors=True)
root = unpacked if os.path.isfile(os.path.join(unpacked, "__main__.py")) else archive
sys.path[0] = root

from netplan.agent.__main__ import main  # noqa: E402

main()
'''
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""The earliest time a zip entry can carry: no build time leaks into the bytes."""
LEFT_OUT = {"netplan/agent/bundle.py"}


@dataclass(frozen=True)
class Bundle:
    files: tuple[tuple[str, bytes], ...]
    """(name in the archive, contents), sorted by name."""

    @cached_property
    def digest(self) -> str:
        """sha256 over every name and content, length-prefixed so no two bundles collide."""
        hasher = hashlib.sha256()
        for name, data in self.files:
            encoded = name.encode()
            hasher.update(len(encoded).to_bytes(8, "big") + encoded)
            hasher.update(len(data).to_bytes(8, "big") + data)
        return hasher.hexdigest()

    @property
    def name(self) -> str:
        return f"agent-{self.digest[:16]}.pyz"

    def archive(self) -> bytes:
        """The zipapp: `python3 agent-<digest>.pyz` runs the agent."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in self.files:
                entry = zipfile.ZipInfo(name, ZIP_TIME)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o644 << 16
                archive.writestr(entry, data, compresslevel=6)
        return buffer.getvalue()


def package_files(package: Path, prefix: str) -> list[tuple[str, bytes]]:
    """Every file of an installed package, bytecode caches left out."""
    return [
        (f"{prefix}/{path.relative_to(package).as_posix()}", path.read_bytes())
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]


@cache
def agent_bundle() -> Bundle:
    """The bundle of the agent this controller runs (read once per process)."""
    netplan_dir = Path(netplan.__file__).parent
    files = [
        ("__main__.py", MAIN),
        ("netplan/__init__.py", (netplan_dir / "__init__.py").read_bytes()),
        *package_files(netplan_dir / "agent", "netplan/agent"),
    ]
    return Bundle(tuple(sorted(item for item in files if item[0] not in LEFT_OUT)))
