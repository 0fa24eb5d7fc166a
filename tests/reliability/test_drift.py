"""Drift repair (tests/reliability/drift.py): random changes behind netplan's back, in
batches; after each batch `check` exits 2 and names every changed resource as drift, one
`apply` repairs them (what is owned has the same shape as before, read with ip/nft/bridge),
and the plan after it is empty. On this host and on a lab of three hosts (where the
overlay's FDB and neighbour entries can be removed too), foreign objects present."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from tests.reliability import census, drift, foreign, run
from tests.reliability.conftest import Scale, record
from tests.reliability.place import Place, each
from tests.reliability.workload import lab_topology, local_topology, write

BATCH = 4


def test_local_drift(tmp_path: Path, local: dict[str, Place], scale: Scale) -> None:
    topology = write(tmp_path / "drift.yaml", local_topology("drift"))
    rounds(topology, "drift", local, scale.drift_changes, scale, "local")


def test_lab_drift(tmp_path: Path, lab: dict[str, Place], scale: Scale) -> None:
    topology = write(tmp_path / "labdrift.yaml", lab_topology("labdrift"))
    rounds(topology, "labdrift", lab, scale.lab_drift_changes, scale, "lab")


def named(checked: dict[str, Any]) -> dict[str, set[str]]:
    """Every key check names as drift, by host."""
    return {host: {d["key"] for d in report.get("differences", [])
                   if any("drift" in c for c in d.get("classes", []))}
            for host, report in checked["hosts"].items()}


def rounds(topology: Path, name: str, places: Mapping[str, Place], total: int,
           scale: Scale, where: str) -> None:
    try:
        run_rounds(topology, name, places, total, scale, where)
    except BaseException:  # one that stopped half-way leaves nothing for the next test
        run.cli("destroy", topology, "--yes", places=places)  # (else its last step was one)
        raise


def run_rounds(topology: Path, name: str, places: Mapping[str, Place], total: int,
               scale: Scale, where: str) -> None:
    baseline = each(places, census.settled_snapshot)
    foreigners = each(places, foreign.inventory)
    applied = run.cli("apply", topology, "--yes", places=places)
    assert applied.returncode == 0, run.last_lines(applied)
    rng = random.Random(f"{scale.seed}:drift:{where}")
    made: list[drift.Change] = []
    missed: list[str] = []
    unrepaired: list[str] = []
    kinds: dict[str, int] = {}
    while len(made) < total:
        before = each(places, partial(drift.shape, topology=name))
        changes = drift.batch(places, name, rng, min(BATCH, total - len(made)))
        for change in changes:
            places[change.place].sh(change.command)
            kinds[change.kind] = kinds.get(change.kind, 0) + 1
        made += changes
        checked = run.cli("check", topology, "--format", "json", places=places)
        keys = named(json.loads(checked.stdout)) if checked.stdout.strip() else {}
        for change in changes:
            if checked.returncode != 2 or not keys.get(change.place, set()) & set(change.expects):
                missed.append(f"{change.line()}: check exited {checked.returncode}, named "
                              f"{sorted(keys.get(change.place, set()))[:8]}")
        problem = run.converges(topology, places)
        if not problem:
            after = each(places, partial(drift.shape, topology=name))
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
        "harness": f"drift-{where}", "hosts": len(places), "seed": scale.seed,
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
