"""One topology name, two files: apply and destroy refuse to act on a topology whose last
apply was made from another file that still declares its name, unless told to take it
over (`--replace`). Otherwise b.yaml, naming itself `demo` by copy and paste, would
silently replace a.yaml's `demo`: delete its containers that b.yaml lacks.

A file moved, renamed or deleted since, or one that now declares another name, no longer
holds the topology: the apply goes on, so a moved file keeps working. The last-applied
record is per host; so is the decision, and the refusal names the hosts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from netplan.errors import NetplanError
from netplan.gate.record import Source


@dataclass(frozen=True)
class OtherFile:
    """A file that still holds the topology on some of its hosts."""

    source: Source
    hosts: tuple[str, ...]


class OtherFileError(NetplanError):
    """The topology was last applied from another file that still declares it."""

    def __init__(self, topology: str, this: Source, others: list[OtherFile], verb: str) -> None:
        self.topology, self.this, self.others, self.verb = topology, this, others, verb
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        this = self.this.file
        does = "would replace it" if self.verb == "apply" else "would remove it"
        return [
            f"host {', '.join(other.hosts)}: topology '{self.topology}' was last applied from "
            f"{other.source.where}, which still declares it; {self.verb} {this} {does}; "
            f"nothing was changed (hint: pass --replace to take the topology over from "
            f"{other.source.file}, or give {this} another `name:`)"
            for other in self.others
        ]


def other_files(
    topology: str, this: Source, applied_from: Mapping[str, Source | None],
    declares: Callable[[str], str | None] | None = None,
    same: Callable[[str, str], bool] | None = None,
) -> list[OtherFile]:  # fmt: skip
    """The files other than `this` that the hosts' last applies were made from
    (`applied_from`, by host) and that still declare `topology`. `declares(path)` is the
    name a file declares (None: no such file, or not a topology); `same(a, b)` whether
    two paths are one file. Both default to the file system's answer."""
    declares = declares or declared_name
    same = same or same_file
    held: dict[str, list[str]] = {}
    sources: dict[str, Source] = {}
    for host, source in sorted(applied_from.items()):
        if source is None or same(source.where, this.where):
            continue
        sources.setdefault(source.where, source)
        held.setdefault(source.where, []).append(host)
    return [OtherFile(sources[where], tuple(hosts)) for where, hosts in held.items()
            if declares(where) == topology]  # fmt: skip


def refuse_other_files(
    topology: str, this: Source, applied_from: Mapping[str, Source | None], verb: str
) -> None:
    """Raise OtherFileError if another file holds the topology (other_files)."""
    others = other_files(topology, this, applied_from)
    if others:
        raise OtherFileError(topology, this, others, verb)


def same_file(a: str, b: str) -> bool:
    """Whether two paths are one file (the same path, when either is gone)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def declared_name(path: str) -> str | None:
    """The `name:` a topology file declares; None if it is gone or not a topology (only
    its top level is read: a file with errors further down still names its topology).
    Read as `yaml.safe_load` reads it, with libyaml's parser: the pure-Python one took
    0.2 s at 1,000 containers."""
    import yaml

    from netplan.errors import TopologyError
    from netplan.topology.source import read_source

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(read_source(path), Loader=loader)
    except (TopologyError, yaml.YAMLError):
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None
