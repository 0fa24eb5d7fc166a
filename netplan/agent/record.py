"""The last-applied record of a topology on this host: what was desired at its last apply.

Kept in /run (`/run/netplan/topologies/<topology>/last-applied.json`): /run lives as long
as the kernel objects it describes, so a reboot forgets the record together with them.
The agent stores the record as an opaque JSON object; the controller gives it meaning
(netplan/gate/record.py). The kernel stays the source of truth for ownership: the record
only tells drift (the host changed) from pending (the file changed).

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path
from typing import Any

from netplan.agent import hostsfile, netns
from netplan.agent.errors import AgentFailure, ProtocolError

RECORDS = Path("/run/netplan/topologies")
"""Not /run/netplan/<topology>: the lab keeps its hosts in /run/netplan/lab."""
FILE = "last-applied.json"
ROSTER = "hosts.json"
"""The topology's hosts at its last apply (the record's `hosts`), kept apart from the
record so that every observation can read it without parsing the whole record."""
ADDRESSES = "addresses.json"
"""The IPv4 address of each (container, network) at the last apply (the record's
`addresses`), kept apart for the same reason: IPAM keeps them (Facts.addresses)."""
SOURCE = "source.json"
"""Which file the last apply was made from (the record's `file`, `path`, `digest`), kept
apart so that apply can tell, in its observation, whether another file made it."""
SOURCE_KEYS = ("file", "path", "digest")
MAX_BYTES = 64 << 20
"""A record is a few hundred bytes per resource; anything far larger is not ours."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


def path(topology: str) -> Path:
    if not _NAME.fullmatch(topology) or topology in (".", ".."):
        raise ProtocolError(f"{topology!r} is not a topology name")
    return RECORDS / topology / FILE


def read(topology: str) -> dict[str, Any] | None:
    """The record, or None when there is none (never applied here, destroyed, rebooted)."""
    where = path(topology)
    try:
        with where.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise AgentFailure(f"cannot read {where}: {error.strerror}") from error
    try:
        record = json.loads(data) if len(data) <= MAX_BYTES else None
    except ValueError:
        record = None
    return record if isinstance(record, dict) else None


def write(topology: str, record: dict[str, Any]) -> None:
    """Replace the record (and the roster of its `hosts`, the table of its `addresses`,
    its source) atomically: a reader sees the old one or the new one, whole. A record without
    `addresses` (an older controller's) drops the table: IPAM then keeps what the
    containers have."""
    where = path(topology)
    hosts = record.get("hosts")
    addresses = record.get("addresses")
    _replace(where, record)
    _replace(where.with_name(SOURCE), {k: record[k] for k in SOURCE_KEYS if k in record})
    if isinstance(hosts, list):
        _replace(where.with_name(ROSTER), {"hosts": [str(h) for h in hosts]})
    if isinstance(addresses, dict):
        _replace(where.with_name(ADDRESSES), {"addresses": addresses})
    else:
        _unlink(where.with_name(ADDRESSES))


def _replace(where: Path, data: dict[str, Any]) -> None:
    partial = where.with_name(f".{where.name}.{os.getpid()}")
    try:
        where.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        partial.write_text(json.dumps(data, sort_keys=True, check_circular=False),
                           encoding="utf-8")  # JSON-shaped: decoded, or the controller's
        os.replace(partial, where)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise AgentFailure(f"cannot write {where}: {error.strerror}") from error


def roster(topology: str) -> tuple[str, ...]:
    """The hosts the topology had at its last apply here; () when unknown."""
    try:
        data = json.loads(path(topology).with_name(ROSTER).read_bytes())
    except (OSError, ValueError):
        return ()
    hosts = data.get("hosts") if isinstance(data, dict) else None
    return tuple(h for h in hosts if isinstance(h, str)) if isinstance(hosts, list) else ()


def source(topology: str) -> dict[str, Any] | None:
    """The file the last apply here was made from (`file`, `path`, `digest`); None when
    there is no record. A record written before the source was kept beside it is read."""
    try:
        data = json.loads(path(topology).with_name(SOURCE).read_bytes())
    except FileNotFoundError:
        data = read(topology)
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        return None
    return {k: data[k] for k in SOURCE_KEYS if k in data}


def addresses(topology: str) -> dict[str, dict[str, str]]:
    """container → network → IPv4 address at the last apply here; {} when unknown.
    Entries of the wrong shape are left out (the controller checks the addresses)."""
    try:
        data = json.loads(path(topology).with_name(ADDRESSES).read_bytes())
    except (OSError, ValueError):
        return {}
    table = data.get("addresses") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        return {}
    return {c: {n: a for n, a in networks.items() if isinstance(n, str) and isinstance(a, str)}
            for c, networks in table.items() if isinstance(c, str) and isinstance(networks, dict)}


def _unlink(where: Path) -> None:
    try:
        where.unlink(missing_ok=True)
    except OSError as error:
        raise AgentFailure(f"cannot remove {where}: {error.strerror}") from error


def remove(topology: str) -> None:
    """After a destroy: the record, its roster, address table and source (and their
    partial copies, if a writer was killed before renaming one into place), and the
    namespace files and temporary hosts files an apply killed half-way left behind
    (netns.remove_half_made, hostsfile.remove_temporaries)."""
    where = path(topology)
    try:
        netns.remove_half_made(topology)
        hostsfile.remove_temporaries(topology)
    except OSError as error:
        raise AgentFailure(f"cannot remove {error.filename}: {error.strerror}") from error
    try:
        for name in (FILE, ROSTER, ADDRESSES, SOURCE):
            where.with_name(name).unlink(missing_ok=True)
            for partial in where.parent.glob(f".{name}.*"):  # _replace's, if it was killed
                partial.unlink(missing_ok=True)
        where.parent.rmdir()
    except FileNotFoundError:
        pass
    except OSError as error:
        if error.errno != errno.ENOTEMPTY:  # something else lives there: leave it
            raise AgentFailure(f"cannot remove {where}: {error.strerror}") from error


def handle(topology: str, request: dict[str, Any]) -> dict[str, Any]:
    """`{"op": "record", "action": "read" | "write" | "remove", "record": {...}}`. A
    write answers with the roster and addresses an observation now reads (Facts), as it
    reads them: the controller keys the compile cache by the observation after an apply."""
    action = request.get("action")
    if action == "read":
        return {"record": read(topology)}
    if action == "write":
        record = request.get("record")
        if not isinstance(record, dict):
            raise ProtocolError("'record' write needs an object 'record'")
        write(topology, record)
        return {"roster": list(roster(topology)), "addresses": addresses(topology)}
    if action == "remove":
        remove(topology)
        return {}
    raise ProtocolError(f"unknown record action {action!r}: expected 'read', 'write' or 'remove'")
