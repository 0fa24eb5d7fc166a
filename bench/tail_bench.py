"""What an apply does after verify, in-process and without a kernel: the last-applied
record (pipeline.record_applied: LastApplied.now, its JSON, the agent's write into a
scratch directory) and the compile-cache entry (TopologyFile.applied: the digest of the
state after, the desired state kept and written), and the check's cache hit that reads
that entry back.

    unset PYTHONDONTWRITEBYTECODE
    for i in 1 2 3; do for t in OLD_TREE .; do
        .venv/bin/python bench/tail_bench.py --tree $t /tmp/s18/grown.yaml; done; done

FILE is compiled against an empty host; its desired state, compared fields only (a
hosts file by its digest, as the agent reads it back), stands in for the state after.
Medians of --reps runs, in CPU time of this process (the machine is shared: compare
trees alternately, in one shell loop), with the collector off and the heap frozen, as
in a command (netplan/agent/heap.py) between collections.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SCRATCH = Path("/dev/shm")
"""A tmpfs, as /run is, where the record and the entry are written: on a disk, replacing
the record (760 kB at N=1,000) costs more than encoding it."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("file", type=Path)
    options = parser.parse_args()
    sys.path.insert(0, str(options.tree.resolve()))
    from netplan.agent import record as agent_record
    from netplan.agent.state import HostState
    from netplan.compile import compile_topology
    from netplan.compile_cache import Cache, Entry, comparable, observation_digest
    from netplan.gate.record import LastApplied, Source
    from netplan.topology.loader import load_with_warnings

    topology, _ = load_with_warnings(options.file)
    desired = compile_topology(topology, {"local": HostState()})
    after = comparable(desired)
    source = Source.of(options.file)
    tmpfs = SCRATCH if SCRATCH.is_dir() else None
    scratch = Path(tempfile.mkdtemp(prefix="tail_bench.", dir=tmpfs))
    agent_record.RECORDS = scratch / "topologies"
    cache = Cache(scratch / "cache")
    outline = None

    def record() -> None:
        for state in desired.values():
            written = LastApplied.now(state, source, tuple(desired)).to_json()
            agent_record.handle(topology.name, {"action": "write", "record": written})

    def store() -> None:
        nonlocal outline
        from netplan.compile import outline_of

        outline = outline or outline_of(topology)
        entry = Entry("b" * 64, "c" * 64, source.digest, outline, [], observation_digest(after))
        cache.store(options.file, entry, desired)

    def hit() -> None:
        entry = cache.latest(options.file)
        assert entry is not None and cache.desired(options.file, entry) is not None

    parts: dict[str, Callable[[], None]] = {"record": record, "cache": store, "hit": hit}
    spent: dict[str, list[float]] = {name: [] for name in parts}
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        for _ in range(options.reps):
            for name, part in parts.items():
                started = time.process_time()
                part()
                spent[name].append(time.process_time() - started)
    finally:
        shutil.rmtree(scratch)
    median = {name: statistics.median(times) * 1000 for name, times in spent.items()}
    print(f"{options.tree!s:24} record {median['record']:5.1f}  cache {median['cache']:5.1f}"
          f"  together {median['record'] + median['cache']:5.1f}"
          f"  check's hit {median['hit']:5.1f} ms")


if __name__ == "__main__":
    main()
