"""What the agent remembers of a process it started, and how it proves it is that process.

Each container's process has a directory `/run/netplan/topologies/<topology>/processes/
<container>/` with `process.json` (PID, start time, the spec it was started with and a
hash of that spec) and `output.log` (its stdout and stderr). /run lives as long as the
processes do: a reboot forgets both. A PID alone proves nothing (PIDs are reused): the
process is ours while /proc/PID/stat shows the start time recorded when it was started.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from netplan.agent.resources import Process

TOPOLOGIES = "/run/netplan/topologies"
"""Shared with the last-applied record (netplan/agent/record.py); not /run/netplan/<name>,
where the lab keeps its hosts."""
RECORD = "process.json"
LOG = "output.log"
SPEC_FIELDS = tuple(f.name for f in fields(Process) if f.name != "running")


def processes_dir(topology: str) -> str:
    return os.path.join(TOPOLOGIES, topology, "processes")


def directory(topology: str, container: str) -> str:
    if not container or "/" in container or container in (".", ".."):
        raise ValueError(f"{container!r} is not a valid container name")
    return os.path.join(processes_dir(topology), container)


def log_path(topology: str, container: str) -> str:
    return os.path.join(directory(topology, container), LOG)


def spec_of(process: Process) -> dict[str, Any]:
    values = asdict(process)
    return {name: values[name] for name in SPEC_FIELDS}


def spec_hash(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Record:
    pid: int
    start_time: int
    """Field 22 of /proc/PID/stat: clock ticks after boot when the process started."""
    spec: dict[str, Any] = field(default_factory=dict)
    failed: bool = False
    """It exited (or could not exec) right after it was started; the apply said so. Kept
    for `netplan logs`; observed as no process at all, so the next apply starts it."""

    def process(self, running: bool) -> Process:
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in self.spec.items()
        }
        return Process(**values, running=running)


class DamagedRecord(Exception):
    """A record that is not what the agent wrote: the hash does not match, or it is not
    JSON. Its process is left alone."""


def write(topology: str, process: Process, record: Record) -> None:
    """Write under a temporary name, then rename: a reader never sees half a record."""
    path = os.path.join(directory(topology, process.container), RECORD)
    data = {**asdict(record), "hash": spec_hash(record.spec)}
    partial = f"{path}.partial"
    with open(partial, "w") as out:
        json.dump(data, out)
    os.replace(partial, path)


def read(path: str) -> Record | None:
    """The record in directory `path`; None when there is none; DamagedRecord when it is
    not one the agent wrote."""
    try:
        with open(os.path.join(path, RECORD)) as text:
            data = json.load(text)
        spec = data["spec"]
        if not isinstance(spec, dict) or set(spec) != set(SPEC_FIELDS):
            raise DamagedRecord("its fields are not those of a process")
        if data["hash"] != spec_hash(spec):
            raise DamagedRecord("its hash does not match its contents")
        return Record(int(data["pid"]), int(data["start_time"]), spec, bool(data["failed"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DamagedRecord(str(error)) from error


def listed(topology: str) -> list[str]:
    """Container names that have a directory here."""
    try:
        return sorted(os.listdir(processes_dir(topology)))
    except FileNotFoundError:
        return []


def remove(topology: str, container: str) -> None:
    """The container's directory (record and log); the topology's directories too once
    they are empty."""
    shutil.rmtree(directory(topology, container), ignore_errors=True)
    for path in (processes_dir(topology), os.path.join(TOPOLOGIES, topology)):
        try:
            os.rmdir(path)
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.ENOENT, errno.EEXIST):
                raise
            return


def stat_of(pid: int) -> tuple[int, str] | None:
    """(start time, state letter) of a process, None when there is none. The command
    name in field 2 may hold spaces and parentheses: fields are counted after its last ')'."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = text[text.rindex(")") + 2 :].split()
    return int(rest[19]), rest[0]


def alive(record: Record) -> bool:
    """The recorded process still runs (a zombie has ended; a new start time is another
    process that got the PID)."""
    found = stat_of(record.pid)
    return found is not None and found[0] == record.start_time and found[1] not in ("Z", "X")


def netns_inode(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
