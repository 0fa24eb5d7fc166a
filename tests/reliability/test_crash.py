"""Crash-consistency (tests/reliability/crash.py): netplan apply and destroy killed at
random points, on this host (SIGKILL of the controller, which holds the agent) and on a
lab of three hosts (SIGKILL of the controller, of a remote agent, or of the sshd session
serving a connection). After each: one apply converges to an empty plan, destroy leaves
zero owned objects and every host byte-identical to its snapshot before the trials."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tests.reliability import crash, run
from tests.reliability.conftest import Scale, record
from tests.reliability.place import Place
from tests.reliability.workload import lab_topology, local_topology, write


def test_local_crashes(tmp_path: Path, local: dict[str, Place], scale: Scale) -> None:
    topology = write(tmp_path / "crash.yaml", local_topology("crash"))
    trials(topology, "crash", local, crash.LOCAL_FAULTS, scale.local_trials, scale, "local")


def test_lab_crashes(tmp_path: Path, lab: dict[str, Place], scale: Scale) -> None:
    topology = write(tmp_path / "labcrash.yaml", lab_topology("labcrash"))
    trials(topology, "labcrash", lab, crash.LAB_FAULTS, scale.lab_trials, scale, "lab")


def trials(topology: Path, name: str, places: Mapping[str, Place], faults: tuple[str, ...],
           numbers: tuple[int, ...], scale: Scale, where: str) -> None:
    try:
        run_trials(topology, name, places, faults, numbers, scale, where)
    except BaseException:  # one that stopped half-way leaves nothing for the next test
        run.cli("destroy", topology, "--yes", places=places)  # (else its last step was one)
        raise


def run_trials(topology: Path, name: str, places: Mapping[str, Place],
               faults: tuple[str, ...], numbers: tuple[int, ...], scale: Scale,
               where: str) -> None:
    setup = crash.prepare(topology, name, places, faults, scale.seed)
    if scale.only_trial is not None:
        numbers = (scale.only_trial,)
    done = []
    stuck = ""
    for number in numbers:
        done.append(crash.trial(setup, number))
        print(done[-1].line())
        if not done[-1].converged:
            stuck = run.destroys(topology, places, name, setup.baseline, setup.foreigners)
            if stuck:
                break  # the host could not be brought back to its baseline: stop here
    failed = [t for t in done if not t.converged]
    record({
        "harness": f"crash-{where}", "hosts": len(places), "seed": scale.seed,
        "apply_seconds": round(setup.durations["apply"], 2),
        "destroy_seconds": round(setup.durations["destroy"], 2),
        "owned_objects": sum(setup.full.values()),
        "trials": len(done), "converged": len(done) - len(failed),
        "faults_landed": sum(bool(t.hit) for t in done),
        "partial_states": sum(t.partial for t in done),
        "by_fault": {f: sum(t.fault == f for t in done) for f in faults},
        "foreign_objects": sum(len(f) for f in setup.foreigners.values()),
        "foreign_touched": 0 if not failed else None,
    })
    assert not failed, "\n".join(
        f"{t.line()}\n  replay: NETPLAN_RELIABILITY_SEED={scale.seed} "
        f"NETPLAN_RELIABILITY_TRIAL={t.number}" for t in failed
    ) + (f"\nthe trials stopped: a destroy did not restore the host: {stuck}" if stuck else "")
