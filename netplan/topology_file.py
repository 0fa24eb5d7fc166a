"""A topology file as the commands that reconcile open it: its outline, source and
warnings at once, the model and the compiled desired state when they are needed.

With the compile cache (netplan/compile_cache.py; `netplan check` uses it), a file whose
bytes this code has seen before is not loaded to find its outline, and its desired state
is not compiled again while the hosts' observation is the one it was compiled against:
the model (pydantic), the YAML parser and the compiler are then not even imported, which
is why they are imported here only where they are used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from netplan.agent.state import HostState
from netplan.compile_cache import Cache, Entry, bytes_digest, observation_digest
from netplan.errors import NetplanError, log_warnings
from netplan.gate.record import Source
from netplan.outline import Outline

if TYPE_CHECKING:
    from netplan.topology.model import Topology
    from netplan.topology.positions import Positions


class TopologyFile:
    def __init__(self, path: Path, cached: bool = False) -> None:
        """Raises TopologyError if the file has to be loaded and is not valid."""
        self.path = path
        cache = Cache.open() if cached else None
        digest = bytes_digest(path) if cache is not None else None
        self._keyed = (cache, digest) if cache is not None and digest is not None else None
        """The cache, and the digest of the file's bytes that its entries are keyed by."""
        self._entry: Entry | None = None
        self._topology: Topology | None = None
        self._positions: Positions | None = None
        if self._keyed is not None:
            self._entry = self._keyed[0].lookup(path, self._keyed[1])
        if self._entry is not None:
            self.outline: Outline = self._entry.outline
            self.source = Source(os.fspath(path), self._entry.source_digest)
            self.warnings = self._entry.warnings
        else:
            from netplan.compile import outline_of

            self.warnings = self._load()
            self.outline = outline_of(self.topology)
            self.source = Source.of(path)
        log_warnings(self.warnings)

    @property
    def topology(self) -> Topology:
        """The model, loaded on first use (its warnings were logged when the file was
        opened)."""
        if self._topology is None:
            self._load()
        assert self._topology is not None
        return self._topology

    def _load(self) -> list[str]:
        from netplan.topology.loader import load_with_warnings

        self._topology, warnings = load_with_warnings(self.path)
        if self._keyed is not None and bytes_digest(self.path) != self._keyed[1]:
            raise NetplanError(f"{self.path}: the file changed while netplan read it "
                               "(hint: run the command again)")  # fmt: skip
        return warnings

    def desired(self, observed: Mapping[str, HostState]) -> dict[str, HostState]:
        """The desired state of every host named in the topology, compiled against
        `observed` (from the cache when it holds the same observation)."""
        digest = None if self._keyed is None else observation_digest(observed)
        if self._entry is not None and self._entry.observed == digest:
            return self._entry.desired
        from netplan.compile import compile_topology

        desired = compile_topology(self.topology, observed)
        if self._keyed is not None and digest is not None:
            cache, file_digest = self._keyed
            entry = Entry(file_digest, cache.code, self.source.digest, self.outline,
                          self.warnings, digest, Entry.compared(desired))  # fmt: skip
            cache.store(self.path, entry)
        return desired

    def positions(self) -> Positions:
        """Where each value was written in the file; parsed on first use (the loader's
        parse is reused when the file was loaded)."""
        if self._positions is None:
            from netplan.topology.loader import load_positions

            self._positions = load_positions(self.path)
        return self._positions


def bare_outline(name: str) -> Outline:
    """The outline of a topology with only a name, for commands that read what the hosts
    have (show --name): a name the model refuses is refused here too."""
    from pydantic import ValidationError

    from netplan.errors import one_line
    from netplan.topology.model import Topology

    try:
        Topology(name=name)
    except ValidationError as error:
        reason = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
        raise NetplanError(one_line(f"--name: {reason}")) from None
    return Outline(name)
