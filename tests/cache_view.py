"""What the compile cache holds after an apply, seen from the test: the entry the apply
left must be the one the next check finds, and it must be right.

An apply keys the desired state it applied by the hosts' state after it (pipeline.settled),
which the check that follows must observe exactly (else it compiles again: slower, not
wrong); and the desired state kept must be what compiling against that observation gives
(else that check would compare the hosts with a stale desired state: wrong)."""

from __future__ import annotations

from pathlib import Path

from netplan import pipeline
from netplan.compile import compile_topology
from netplan.compile_cache import Cache, Entry, bytes_digest, comparable, observation_digest
from netplan.topology_file import CacheUse, TopologyFile


def cached_entry(path: Path) -> Entry:
    """The compile cache's entry of `path`, whatever bytes it was written for."""
    cache = Cache.open()
    entry = cache.latest(path) if cache is not None else None
    assert entry is not None, f"no cache entry for {path}"
    return entry


def assert_ready_for_the_check(
    path: Path, provider: str = "local", inventory: Path | None = None
) -> None:
    """The cache's entry of `path` matches a fresh observation of the topology's hosts,
    and keeps what compiling `path` against that observation gives."""
    cache = Cache.open()
    assert cache is not None
    entry = cache.lookup(path, bytes_digest(path))
    assert entry is not None, f"the apply left no entry for {path}"
    assert entry.observed is not None, "the apply left its outline only"
    opened = TopologyFile(path, CacheUse.NONE)
    hosts = pipeline.connect_hosts(opened.outline, provider, inventory)
    with hosts:
        observed = pipeline.observe(opened.outline, hosts)
        assert not hosts.failed
    assert observation_digest(observed) == entry.observed, \
        "the hosts' state after the apply is not what a check observes"
    kept = cache.desired(path, entry)
    assert kept is not None
    assert kept == comparable(compile_topology(opened.topology, observed))
