"""The compile cache: what a topology file compiled to, kept with what it was compiled
from, so that checking an unchanged file against unchanged hosts does not load, validate
and compile it again (at N=500, those and their imports are a third of a check), and the
outline of what a file was, so that a command that has to load it can observe the hosts
meanwhile (netplan/topology_file.py).

Compiling is a pure function of the file's bytes, netplan's code and the code of the
libraries that read the file, and the hosts' observation (IPAM keeps the addresses the
hosts have and had, an overlay reads each host's underlay, a process its volume paths).
One entry per file (by real path) holds the digest of its bytes and the fingerprint of
the code it was compiled with, the file's outline, source digest and warnings, the digest
of the observation it was compiled against, and the desired state it compiled to, as
compared (a hosts file by its digest, without its lines: what a check needs), kept as
field tuples (kept()). A check
takes the outline when the bytes and the code match, and the desired state when the
observation matches too; otherwise it loads and compiles as without a cache, and writes
the entry again. An apply that changed the hosts writes the entry without a desired
state: keyed by the observation before, it could never match theirs. Nothing is trusted
that is not keyed by all of its inputs; the outline of an entry whose bytes no longer
match is used only as a guess, which loading the file confirms or corrects.

Kept in /run/netplan/cache for root, else in $XDG_RUNTIME_DIR/netplan (no cache without
one): gone at reboot, as the kernel state it is keyed by is. NETPLAN_CACHE_DIR=DIR puts it
elsewhere, NETPLAN_CACHE=off turns it off. Standard library only: a check that hits does
not import the model.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
from collections import deque
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from functools import cached_property
from importlib.util import find_spec
from itertools import compress, repeat
from pathlib import Path
from typing import Any

import netplan
from netplan.agent.resources import (
    RESOURCE_TYPES,
    Resource,
    field_names,
    field_values,
    from_json,
    to_json,
)
from netplan.agent.state import HostState
from netplan.outline import Outline

SUFFIX = "entry"
ROOT_DIR = Path("/run/netplan/cache")
MAX_ENTRIES = 64
"""Entries kept (one per topology file); the least recently written go first."""
MAX_BYTES = 4 * 1024 * 1024
"""A topology file's size limit (netplan/topology/source.py): a bigger file is not cached."""
_RESOURCE_CLASSES = frozenset(RESOURCE_TYPES.values())
LIBRARIES = ("yaml", "pydantic", "pydantic_core")
"""Besides netplan's own code, what decides what a file loads to."""


def cache_dir() -> Path | None:
    """Where the entries are, or None for no cache."""
    if os.environ.get("NETPLAN_CACHE", "").lower() in ("off", "0", "no"):
        return None
    if os.environ.get("NETPLAN_CACHE_DIR"):
        return Path(os.environ["NETPLAN_CACHE_DIR"])
    if os.geteuid() == 0:
        return ROOT_DIR
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return Path(runtime) / "netplan" if runtime else None


def code_fingerprint() -> str:
    """Changes when netplan's source, the libraries that read a file or the interpreter
    change: the name, size and modification time of each of their files (~1 ms)."""
    parts = [sys.version]
    package = Path(netplan.__file__).parent
    for directory, subdirectories, files in os.walk(package):
        subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            stat = os.stat(os.path.join(directory, name))
            parts.append(f"{directory}/{name}:{stat.st_size}:{stat.st_mtime_ns}")
    for library in LIBRARIES:
        spec = find_spec(library)
        origin = spec.origin if spec is not None else None
        if origin:
            found = os.stat(origin)
            parts.append(f"{library}:{origin}:{found.st_size}:{found.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def observation_digest(observed: Mapping[str, HostState]) -> str:
    """Of every observed host's state and facts; hosts not observed are left out. Of
    their pickle (half the time of their JSON at N=500), resources in the order of their
    keys, as three lists: the keys, each one's kind, and the tuple of each one's fields'
    values (a third of the time of pickling the objects, each with its class and field
    names; lists, not a triple per resource, which took a third longer), and holders in
    the order of their keys: the bytes rebuild the values, so different values never give
    the same bytes; and pickled without its memo (`fast`), the bytes do not show which
    objects are shared, which depends on how the observation was made (in one process,
    or in parts unpickled from children), so equal values give the same bytes."""
    digest = hashlib.sha256()
    for host in sorted(observed):
        state = observed[host]
        keys = sorted(state.resources)
        resources = list(map(state.resources.__getitem__, keys))
        parts = (host, keys, [r.KIND for r in resources], list(map(_values, resources)),
                 sorted(state.foreign.items()), state.facts)  # fmt: skip
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
        pickler.fast = True
        pickler.dump(parts)
        digest.update(buffer.getbuffer())
    return digest.hexdigest()


def _values(resource: Resource, carried: bool = True) -> tuple[Any, ...]:
    """Every field's value of `resource` (or, without `carried`, every compared field's),
    in the order of its fields."""
    return field_values(type(resource), carried)(resource)


def _file_key(file: Path) -> str:
    return hashlib.sha256(os.path.realpath(file).encode()).hexdigest()[:32]


def bytes_digest(path: Path) -> str | None:
    """Of the file's bytes; None if it cannot be read or is over the size limit (loading
    it then says why)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    return hashlib.sha256(data).hexdigest() if len(data) <= MAX_BYTES else None


@dataclass(frozen=True)
class Entry:
    bytes_digest: str
    code: str
    source_digest: str
    """Source.digest of the file (of its text)."""
    outline: Outline
    warnings: list[str]
    observed: str | None
    """observation_digest() of the hosts' state the desired state kept with it
    (Cache.desired) is for: what a check compiled against, or what an apply left; None
    when an apply's outcome was not known whole (a host failed or was reverted): the entry
    keeps the outline only, for the next command to observe while it loads."""


def comparable(desired: Mapping[str, HostState]) -> dict[str, HostState]:
    """`desired` without the fields that are not compared: a resource that has some
    (a hosts file's lines) is made again without them, the others are kept."""
    return {host: HostState({key: _compared(resource) for key, resource in state.resources.items()})
            for host, state in desired.items()}  # fmt: skip


def _compared(resource: Resource) -> Resource:
    kind = type(resource)
    if field_names(kind, carried=True) == field_names(kind):
        return resource
    return from_json(to_json(resource, carried=False))


Kept = dict[str, tuple[list[str], list[type], list[tuple[Any, ...]]]]
"""A desired state as an entry keeps it: by host, its resources' keys, classes and the
values of their compared fields, in its order."""


def kept(desired: Mapping[str, HostState]) -> Kept:
    """`desired`, compared fields only, as field tuples: pickled in a third of the time
    of comparable()'s objects (each with its class and its fields' names), and made
    into them again (made()) faster than those are unpickled."""
    return {host: (list(state.resources), [type(r) for r in state.resources.values()],
                   [_values(r, carried=False) for r in state.resources.values()])
            for host, state in desired.items()}  # fmt: skip


def made(data: Kept) -> dict[str, HostState]:
    """comparable() of the desired state that kept() was given. The objects are made as
    unpickling makes them, without __init__ (their values went through it once), and
    with the loops in C (map): a loop over 5,000 resources in Python took longer than
    unpickling them. Raises ValueError for a class that is not a resource's."""
    made_by_host = {}
    for host, (keys, kinds, values) in data.items():
        if not len(keys) == len(kinds) == len(values):
            raise ValueError(f"{host}: as many keys, classes and values expected")
        layouts = {kind: _layout(kind) for kind in set(kinds)}
        names = {kind: layout[0] for kind, layout in layouts.items()}
        states = list(map(dict, map(zip, map(names.__getitem__, kinds), values)))
        for kind, (_, defaults) in layouts.items():
            if defaults:  # a hosts file's lines
                for state in compress(states, [k is kind for k in kinds]):
                    state.update(defaults)
        resources: list[Resource] = list(map(object.__new__, kinds))
        deque(map(object.__setattr__, resources, repeat("__dict__"), states), maxlen=0)
        made_by_host[host] = HostState(dict(zip(keys, resources, strict=True)))
    return made_by_host


_LAYOUTS: dict[type, tuple[tuple[str, ...], dict[str, Any]]] = {}


def _layout(kind: type) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The compared fields of a resource class, and the defaults of the others (what
    comparable() leaves them at)."""
    layout = _LAYOUTS.get(kind)
    if layout is None:
        if kind not in _RESOURCE_CLASSES:
            raise ValueError(f"{kind!r} is not a resource's class")
        defaults = {f.name: f.default_factory() if f.default is MISSING else f.default  # type: ignore[operator]
                    for f in fields(kind) if not f.compare}  # fmt: skip
        layout = _LAYOUTS[kind] = (field_names(kind), defaults)
    return layout


class _Unpickler(pickle.Unpickler):
    """Entries are pickled (at N=500 read twice as fast as their JSON, decoded), from a
    directory only this user can write to; even so, only netplan's classes and plain
    values are made from one."""

    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] != "netplan" and module not in ("builtins", "copyreg"):
            raise pickle.UnpicklingError(f"{module}.{name} is not netplan's")
        return super().find_class(module, name)


class Cache:
    """The entries in `directory`, for netplan's code as it is now."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @cached_property
    def code(self) -> str:
        return code_fingerprint()

    @classmethod
    def open(cls) -> Cache | None:
        directory = cache_dir()
        return None if directory is None else cls(directory)

    def lookup(self, file: Path, digest: str) -> Entry | None:
        """The entry of `file` if it was written for these bytes by this code."""
        entry = self.latest(file)
        if entry is None or entry.code != self.code:
            return None
        return entry if entry.bytes_digest == digest else None

    def latest(self, file: Path) -> Entry | None:
        """The entry last written for `file`, whatever its bytes and code were then, from
        a directory only this user can write to: its outline is at most a guess. Its
        desired state, pickled after it in the same file, is not read (desired())."""
        read = self._read(file, whole=False)
        return None if read is None else read[0]

    def desired(self, file: Path, entry: Entry) -> dict[str, HostState] | None:
        """The desired state kept with `entry`, if the entry of `file` is still that one
        (another command may have written it since it was read)."""
        read = self._read(file, whole=True)
        if read is None or read[0] != entry:
            return None
        return read[1]

    def _read(self, file: Path, whole: bool) -> tuple[Entry, dict[str, HostState] | None] | None:
        try:
            if not self._private():
                return None
            found = self._entries_of(file)
            if not found:
                return None
            with open(found[0], "rb") as handle:  # two pickles: one unpickler each
                entry = _Unpickler(handle).load()
                if not isinstance(entry, Entry) or not isinstance(
                    getattr(entry, "outline", None), Outline
                ):
                    return None
                whole = whole and entry.observed is not None
                desired = made(_Unpickler(handle).load()) if whole else None
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, KeyError, TypeError,
                AttributeError, ImportError, IndexError):
            return None
        return entry, desired

    def store(self, file: Path, entry: Entry,
              desired: Mapping[str, HostState] | None = None) -> None:
        """The entry, and after it the desired state (kept(); given with an
        entry that has an observation, and only then): written whole or not at all, named
        by the file and its topology (`forget`); a cache that cannot be written is no
        cache."""
        path = self.directory / f"{_file_key(file)}.{entry.outline.name}.{SUFFIX}"
        partial = self.directory / f".{path.name}.{os.getpid()}"
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self._private():
                return
            with open(partial, "wb") as handle:
                pickle.dump(entry, handle, pickle.HIGHEST_PROTOCOL)
                if desired is not None:
                    pickle.dump(kept(desired), handle, pickle.HIGHEST_PROTOCOL)
            os.replace(partial, path)
            for other in self._entries_of(file):
                if other != path:
                    other.unlink(missing_ok=True)
            self._prune()
        except OSError:
            partial.unlink(missing_ok=True)

    def forget(self, topology: str) -> None:
        """Remove the entries of every file of `topology`, and what a check killed while
        writing one left, and the directory once it is empty (after its destroy: nothing
        it made is left, the cache included)."""
        try:
            for name in os.listdir(self.directory):
                pid = _pid_of(name)
                entry = name.lstrip(".")[: -len(pid) - 1] if pid else name
                if entry.partition(".")[2] == f"{topology}.{SUFFIX}":
                    (self.directory / name).unlink(missing_ok=True)
            self.directory.rmdir()
        except OSError:
            return

    def _entries_of(self, file: Path) -> list[Path]:
        prefix = _file_key(file) + "."
        return [self.directory / n for n in os.listdir(self.directory) if n.startswith(prefix)]

    def _private(self) -> bool:
        stat = os.stat(self.directory)
        return stat.st_uid == os.geteuid() and not stat.st_mode & 0o022

    def _prune(self) -> None:
        """The newest MAX_ENTRIES entries are kept; the partial copies of checks that were
        killed while writing (their process is gone) are removed."""
        entries = []
        for name in os.listdir(self.directory):
            path = self.directory / name
            if name.endswith(f".{SUFFIX}") and not name.startswith("."):
                entries.append((path.stat().st_mtime_ns, path))
            elif _pid_of(name) and not _alive(int(_pid_of(name))):
                path.unlink(missing_ok=True)
        for _, old in sorted(entries)[:-MAX_ENTRIES]:
            old.unlink(missing_ok=True)


def _pid_of(name: str) -> str:
    """The writer's PID in the name of a partial copy (`.KEY.TOPOLOGY.entry.PID`), else ""."""
    head, _, pid = name.rpartition(".")
    return pid if name.startswith(".") and head.endswith(f".{SUFFIX}") and pid.isdigit() else ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
