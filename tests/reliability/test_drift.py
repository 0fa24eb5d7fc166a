"""Drift repair (tests/reliability/drift.py): changes behind netplan's back, in batches;
after each batch `check` exits 2 and names every changed resource as drift, one `apply`
repairs them (what is owned has the same shape as before, read with ip/nft/bridge/sysctl:
survey.shape), and the plan after it is empty. On this host, changes of kinds drawn at
random; on a lab of three hosts (where the overlay's tunnels, FDB and neighbour entries
can be changed too) the same in the long run, and every kind once in the short one (each
alone: test_drift_kinds.py, long run). Foreign objects present."""

from __future__ import annotations

import random
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from tests.reliability import census, drift, foreign, run
from tests.reliability.change import Change
from tests.reliability.conftest import Scale, record
from tests.reliability.place import Place, each
from tests.reliability.survey import shape
from tests.reliability.workload import lab_topology, local_topology, write

BATCH = 4
SWEEP_BATCH = 8
"""Changes a batch holds when every kind is made once: the most the lab's hosts take at
once, as each holds one change to its tunnel and one to its nft table."""


def test_local_drift(tmp_path: Path, local: dict[str, Place], scale: Scale) -> None:
    topology = write(tmp_path / "drift.yaml", local_topology("drift"))
    rounds(topology, "drift", local, scale.drift_changes, scale, "local")


def test_lab_drift(tmp_path: Path, lab: dict[str, Place], scale: Scale) -> None:
    topology = write(tmp_path / "labdrift.yaml", lab_topology("labdrift"))
    if scale.long:
        rounds(topology, "labdrift", lab, scale.lab_drift_changes, scale, "lab")
    else:
        rounds(topology, "labdrift", lab, len(drift.CATALOGUE), scale, "lab", sweep=True)


def rounds(topology: Path, name: str, places: Mapping[str, Place], total: int,
           scale: Scale, where: str, sweep: bool = False) -> None:
    """`total` changes; with `sweep`, one of every kind of the catalogue."""
    try:
        run_rounds(topology, name, places, total, scale, where, sweep)
    except BaseException:  # one that stopped half-way leaves nothing for the next test
        run.cli("destroy", topology, "--yes", places=places)  # (else its last step was one)
        raise


def run_rounds(topology: Path, name: str, places: Mapping[str, Place], total: int,
               scale: Scale, where: str, sweep: bool) -> None:
    baseline = each(places, census.settled_snapshot)
    foreigners = each(places, foreign.inventory)
    applied = run.cli("apply", topology, "--yes", places=places)
    assert applied.returncode == 0, run.last_lines(applied)
    rng = random.Random(f"{scale.seed}:drift:{where}")
    made: list[Change] = []
    missed: list[str] = []
    unrepaired: list[str] = []
    kinds: dict[str, int] = {}
    while len(made) < total:
        before = each(places, partial(shape, topology=name))
        if sweep:
            remaining = [k for k in sorted(drift.CATALOGUE) if k not in kinds]
            changes = drift.batch(places, name, rng, SWEEP_BATCH, remaining)
        else:
            changes = drift.batch(places, name, rng, min(BATCH, total - len(made)))
        assert changes, f"nothing to change: {sorted(set(drift.CATALOGUE) - set(kinds))}"
        for change in changes:
            places[change.place].sh(change.command)
            kinds[change.kind] = kinds.get(change.kind, 0) + 1
        made += changes
        checked = run.cli("check", topology, "--format", "json", places=places)
        keys = run.drift_named(checked)
        for change in changes:
            if checked.returncode != 2 or not keys.get(change.place, set()) & set(change.expects):
                missed.append(f"{change.line()}: check exited {checked.returncode}, named "
                              f"{sorted(keys.get(change.place, set()))[:8]}")
        problem = run.converges(topology, places)
        if not problem:
            after = each(places, partial(shape, topology=name))
            lost = {h: sorted(set(before[h]) ^ set(after[h]))[:4] for h in before
                    if before[h] != after[h]}
            problem = f"owned objects differ after the repair: {lost}" if lost else ""
        if problem:
            unrepaired += [f"{c.line()}: {problem}" for c in changes]
        for change in changes:
            print(f"{change.line()}: "
                  f"{'missed' if any(m.startswith(change.line()) for m in missed) else 'named'}, "
                  f"{'NOT repaired: ' + problem if problem else 'repaired'}")
        undone = [places[c.place].sh(c.undo) for c in changes if c.undo]
        if problem or undone:  # else the host is already as applied, the plan empty
            assert not run.converges(topology, places), "the host could not be put back"
    cleaned = run.destroys(topology, places, name, baseline, foreigners)
    record({
        "harness": f"drift-{where}" + ("-every-kind" if sweep else ""),
        "hosts": len(places), "seed": scale.seed,
        "changes": len(made), "detected": len(made) - len(missed),
        "repaired": len(made) - len(unrepaired), "by_kind": kinds,
        "known_gaps": {k: kinds.get(k, 0) for k in drift.KNOWN_GAPS},
        "foreign_objects": sum(len(f) for f in foreigners.values()),
        "foreign_touched": 0 if not cleaned else None,
    })
    gaps = {kind: kinds.get(kind, 0) for kind in drift.KNOWN_GAPS}
    closed = [kind for kind, count in gaps.items()
              if count and not any(kind in line for line in missed + unrepaired)]
    missed = [line for line in missed if not _known(line)]
    unrepaired = [line for line in unrepaired if not _known(line)]
    assert not missed, "check did not name:\n" + "\n".join(missed)
    assert not unrepaired, "one apply did not repair:\n" + "\n".join(unrepaired)
    assert not cleaned, cleaned
    assert not closed, f"detected and repaired now: remove {closed} from drift.KNOWN_GAPS"


def _known(line: str) -> bool:
    return any(line.startswith(f"{kind} on ") for kind in drift.KNOWN_GAPS)
