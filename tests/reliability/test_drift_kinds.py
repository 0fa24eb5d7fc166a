"""Every kind of the drift catalogue (tests/reliability/drift.py), once and alone, on a
lab of three hosts whose topology has every object some kind changes (an overlay's
tunnels with their FDB and neighbour entries, bridges and their ports, published ports,
sysctls, a process, hosts files), foreign objects present: `check` exits 2 and names the
changed resource as drift, one `apply` repairs it, the plan after it is empty, and what
the topology owns at the place, read with ip, bridge, nft, /proc/sys and the files
(survey.shape), is what it was before. A kind netplan does not repair yet
(drift.KNOWN_GAPS) is a strict xfail, its reason the bug: it fails once repaired.

`make reliability` runs every kind (~5 s each); `make test` only the known gaps, as
test_drift.py's short lab run already makes every kind once, in batches."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from tests.reliability import census, drift, foreign, run
from tests.reliability.change import Change
from tests.reliability.conftest import Scale, long_run
from tests.reliability.place import Place, each
from tests.reliability.survey import shape, survey
from tests.reliability.workload import lab_topology, write

NAME = "labkinds"


@dataclass
class Applied:
    places: dict[str, Place]
    topology: Path
    change: Change | None = None
    """The change of the test running, until it is repaired."""


@pytest.fixture(scope="module")
def applied(lab: dict[str, Place], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    """The topology applied on the lab for every kind; destroyed after the last, leaving
    each host as it was and every foreign object untouched."""
    topology = write(tmp_path_factory.mktemp("kinds") / "kinds.yaml", lab_topology(NAME))
    baseline = each(lab, census.settled_snapshot)
    foreigners = each(lab, foreign.inventory)
    done = run.cli("apply", topology, "--yes", places=lab)
    assert done.returncode == 0, run.last_lines(done)
    yield Applied(lab, topology)
    cleaned = run.destroys(topology, lab, NAME, baseline, foreigners)
    assert not cleaned, cleaned


@pytest.fixture
def lab_as_applied(applied: Applied) -> Iterator[Applied]:
    """After a test that did not see its change repaired: put back by hand what netplan
    does not (the change's `undo`), and apply, so that the next kind starts in sync."""
    yield applied
    change, applied.change = applied.change, None
    if change is None:
        return
    if change.undo:
        applied.places[change.place].sh(change.undo)
    problem = run.converges(applied.topology, applied.places)
    assert not problem, f"the lab could not be put back after {change.line()}: {problem}"


def kinds() -> list[object]:
    """Every kind in the long run, the known gaps in the short one."""
    return [pytest.param(kind, marks=pytest.mark.xfail(
                strict=True, raises=AssertionError, reason=drift.KNOWN_GAPS[kind]))
            if kind in drift.KNOWN_GAPS else kind
            for kind in sorted(drift.CATALOGUE) if long_run() or kind in drift.KNOWN_GAPS]


@pytest.mark.skipif(not kinds(), reason="no known gaps: the short run's batches (test_drift.py) "
                    "cover every kind; each kind alone runs in the long run")
@pytest.mark.parametrize("kind", kinds())
def test_each_kind_is_named_and_repaired(kind: str, lab_as_applied: Applied,
                                         scale: Scale) -> None:
    places, topology = lab_as_applied.places, lab_as_applied.topology
    change = first_change(kind, places, random.Random(f"{scale.seed}:{kind}"))
    place = places[change.place]
    before = shape(place, NAME)
    lab_as_applied.change = change
    place.sh(change.command)
    checked = run.cli("check", topology, "--format", "json", places=places)
    named = run.drift_named(checked)[change.place]
    assert checked.returncode == 2 and named & set(change.expects), (
        f"{change.line()}: check exited {checked.returncode}, named {sorted(named)[:8]}")
    problem = run.converges(topology, places)
    assert not problem, f"{change.line()}: {problem}"
    after = shape(place, NAME)
    assert after == before, (f"{change.line()}: owned objects differ after the repair: "
                             f"{sorted(set(before) ^ set(after))[:6]}")
    lab_as_applied.change = None


def first_change(kind: str, places: dict[str, Place], rng: random.Random) -> Change:
    """A change of `kind` at the first host (by name) that has something to change."""
    owned = each(places, partial(survey, topology=NAME))
    for name in sorted(places):
        change = drift.CATALOGUE[kind](owned[name], rng, set())
        if change is not None:
            assert change.kind == kind, f"{kind} is filed under another kind's name"
            return change
    raise AssertionError(f"{kind}: nothing to change on any host of the lab")

