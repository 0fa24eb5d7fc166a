"""A topology file as the commands that reconcile open it: its outline, source and
warnings at once, the model and the compiled desired state when they are needed.

Through the compile cache (netplan/compile_cache.py), a file whose bytes this code has
seen before is not loaded to find its outline; for `netplan check`, its desired state is
not compiled again while the hosts' observation is the one it was compiled against, or
the one the last apply left (applied()): the model (pydantic), the YAML parser and the
compiler are then not even imported, which is
why they are imported here only where they are used. A file the cache has seen with
other bytes (edited since) starts with the outline it had then, a guess that load()
settles: the commands observe the hosts with it while the file loads (cli.run_plan).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from netplan.agent.state import HostState
from netplan.compile_cache import Cache, Entry, bytes_digest, observation_digest
from netplan.errors import NetplanError, TopologyError, log_warnings
from netplan.gate.record import Source
from netplan.outline import HostOutline, Outline

if TYPE_CHECKING:
    from netplan.topology.model import Topology
    from netplan.topology.positions import Positions


class CacheUse(Enum):
    NONE = "none"
    """The file is loaded when opened (every command that does not reconcile it)."""
    OUTLINE = "outline"
    """plan, apply, destroy: the outline from the cache, or guessed from it; nothing is
    written but by an apply that ran (applied(): the file's outline)."""
    COMPARED = "compared"
    """check: the desired state from the cache too when the observation is the one it
    was compiled against (a check compares: a hosts file's digest is enough)."""


class TopologyFile:
    source: Source
    warnings: list[str]

    def __init__(self, path: Path, use: CacheUse = CacheUse.NONE) -> None:
        """Raises TopologyError if the file has to be loaded and is not valid."""
        self.path = path
        self.use = use
        cache = Cache.open() if use is not CacheUse.NONE else None
        digest = bytes_digest(path) if cache is not None else None
        self._keyed = (cache, digest) if cache is not None and digest is not None else None
        """The cache, and the digest of the file's bytes that its entries are keyed by."""
        self._entry: Entry | None = None
        self._topology: Topology | None = None
        self._positions: Positions | None = None
        self.guessed = False
        """Whether `outline` is the one of the file's bytes before (load() settles it)."""
        if self._keyed is not None:
            self._entry = self._keyed[0].lookup(path, self._keyed[1])
        if self._entry is not None:
            self.outline: Outline = self._entry.outline
            self.source = Source.given(path, self._entry.source_digest)
            self.warnings = self._entry.warnings
            log_warnings(self.warnings)
            return
        latest = None if self._keyed is None else self._keyed[0].latest(path)
        if latest is not None:
            self.outline, self.guessed = latest.outline, True
        else:
            self._open()

    def _open(self) -> None:
        from netplan.compile import outline_of

        self.warnings = self._load()
        self.outline = outline_of(self.topology)
        self.source = Source.of(self.path)
        log_warnings(self.warnings)

    @property
    def topology(self) -> Topology:
        """The model, loaded on first use (load())."""
        if self._topology is None:
            self.load()
        assert self._topology is not None
        return self._topology

    def _load(self) -> list[str]:
        from netplan.topology.loader import load_with_warnings

        self._topology, warnings = load_with_warnings(self.path)
        if self._keyed is not None and bytes_digest(self.path) != self._keyed[1]:
            raise NetplanError(f"{self.path}: the file changed while netplan read it "
                               "(hint: run the command again)")  # fmt: skip
        return warnings

    def needs_model(self, compiles: bool) -> bool:
        """Whether the command will load the model: to settle a guessed outline, or, if
        it `compiles`, for a desired state the cache will not give."""
        if self._topology is not None:
            return False
        if self.guessed or not compiles:
            return self.guessed
        entry = self._entry
        return not (self.use is CacheUse.COMPARED and entry is not None
                    and entry.observed is not None)  # fmt: skip

    def load(self, compiles: bool = False) -> None:
        """The model loaded, if it is not yet: a guessed outline is then the file's, and
        the warnings are logged (they were when the file was opened, otherwise). With
        `compiles` (desired() is next), the compiler is imported too: while the hosts
        are still observed (cli.run_plan), not after."""
        if self.guessed:
            self._open()
            self.guessed = False
        elif self._topology is None:
            self._load()
        if compiles:
            importlib.import_module("netplan.compile")

    def desired(self, observed: Mapping[str, HostState]) -> dict[str, HostState]:
        """The desired state of every host named in the topology, compiled against
        `observed` (for a check, from the cache when it holds the same observation)."""
        compared = self.use is CacheUse.COMPARED
        digest = observation_digest(observed) if compared and self._keyed else None
        entry, keyed = self._entry, self._keyed
        if digest is not None and keyed is not None and entry is not None \
                and entry.observed == digest:
            kept = keyed[0].desired(self.path, entry)
            if kept is not None:
                return kept
        from netplan.compile import compile_topology

        try:
            desired = compile_topology(self.topology, observed)
        except TopologyError as error:  # what the hosts' facts make wrong: placed in the file
            positions = self.positions()
            raise TopologyError([positions.locate(p) for p in error.problems]) from error
        if compared and digest is not None:
            self._store(digest, desired)
        return desired

    def applied(
        self, changed: bool, desired: Mapping[str, HostState],
        after: Mapping[str, HostState] | None,
    ) -> None:  # fmt: skip
        """After an apply: the cache keeps the file's outline, for the next command to
        observe while it loads the file, and the `desired` state applied, keyed by the
        hosts' state `after` it (pipeline.settled): what the next check observes if nothing
        changed meanwhile, and against which compiling gives the same desired state
        (addresses stay those containers have; every kernel test checks that a second
        plan is empty, and tests/cache_view.py, after the examples' applies, that the
        compile agrees). Without `after` (a host failed, or `--confirm` reverted the
        change), the outline only. An apply that changed nothing leaves an entry
        these bytes have with a desired state as it is."""
        if not changed and self._entry is not None and self._entry.observed is not None:
            return
        if after is None:
            self._store(None, None)
        else:
            self._store(observation_digest(after), dict(desired))

    def _store(self, observed: str | None, desired: dict[str, HostState] | None) -> None:
        if self._keyed is not None:
            cache, file_digest = self._keyed
            entry = Entry(file_digest, cache.code, self.source.digest, self.outline,
                          self.warnings, observed)  # fmt: skip
            cache.store(self.path, entry, desired)

    def positions(self) -> Positions:
        """Where each value was written in the file; parsed on first use (the loader's
        parse is reused when the file was loaded)."""
        if self._positions is None:
            from netplan.topology.loader import load_positions

            self._positions = load_positions(self.path)
        return self._positions


def bare_outline(name: str, hosts: list[str]) -> Outline:
    """The outline of a topology known by its name only, on `hosts`, for commands that
    read what the hosts have (show --name): a name the model refuses is refused here too."""
    from pydantic import ValidationError

    from netplan.errors import one_line
    from netplan.topology.model import Topology

    try:
        Topology(name=name)
    except ValidationError as error:
        reason = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
        hint = "give the `name:` an applied topology's file has"
        raise NetplanError(one_line(f"--name: {reason} (hint: {hint})")) from None
    return Outline(name, {host: HostOutline() for host in hosts})
