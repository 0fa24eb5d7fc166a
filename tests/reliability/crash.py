"""Crash-consistency: kill `netplan apply` or `destroy` at a random point, then prove that
one apply converges (exit 0, empty plan after it) and that destroy leaves nothing owned and
every host (and every foreign object) exactly as before the trial.

Faults:
- `controller`: SIGKILL of the netplan process. With the local provider the agent runs
  inside it, so this is also the agent's SIGKILL; no other fault exists there.
- `agent`: SIGKILL of the agent process on a lab host (`python3 …/agent-….pyz`), found and
  killed by PID inside the host.
- `ssh`: the SSH connection dropped: SIGKILL of the sshd process serving it on the lab host
  (a child of the host's sshd, PID 1 there), by PID.

The point of the kill is a delay drawn uniformly from [0, the measured duration of an
uninterrupted run of the same command]; each trial has its own random.Random seeded with
`<seed>:<trial>`, so any trial can be replayed alone (NETPLAN_RELIABILITY_SEED, and
NETPLAN_RELIABILITY_TRIAL to run only that one). A fault whose target is not there yet (the
agent not started) is aimed as soon as it appears.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from tests.reliability import census, run
from tests.reliability.place import Place, each

LOCAL_FAULTS = ("controller",)
LAB_FAULTS = ("controller", "agent", "ssh")
AGENT_PATTERN = "[a]gent-[0-9a-f]*[.]pyz"
"""The agent's command line on a host (the brackets keep grep from finding itself)."""
QUIET_TIMEOUT = 150.0
"""Seconds to wait for agents orphaned by a fault to finish and exit (apply's deadline)."""


@dataclass
class Trial:
    number: int
    command: str
    """apply or destroy: the command the fault hits."""
    fault: str
    delay: float
    """Seconds after the start when the fault was aimed."""
    hit: str = ""
    """What was killed ('' when the command had ended by itself first)."""
    partial: bool = False
    """The kill left some but not all of the topology's objects."""
    error: str = ""
    """'' when the trial converged and cleaned up; else the first thing that failed."""

    @property
    def converged(self) -> bool:
        return not self.error

    def line(self) -> str:
        what = f"killed {self.hit}" if self.hit else "ran to its end before the fault"
        state = "converged" if self.converged else f"FAILED: {self.error}"
        return (f"trial {self.number}: {self.command}, {self.fault} fault at "
                f"{self.delay:.2f} s ({what}{', partial state' if self.partial else ''}): {state}")


@dataclass
class Setup:
    """What every trial of a run shares."""

    topology: Path
    name: str
    places: Mapping[str, Place]
    faults: tuple[str, ...]
    durations: dict[str, float]
    """Seconds an uninterrupted apply and destroy take."""
    full: dict[str, int]
    """Owned objects per place once applied."""
    baseline: dict[str, dict[str, Any]]
    foreigners: dict[str, dict[str, Any]]
    seed: str


def prepare(topology: Path, name: str, places: Mapping[str, Place],
            faults: tuple[str, ...], seed: str) -> Setup:
    """Measure an uninterrupted apply and destroy, then take each place's baseline (after
    them: ip_forward, which destroy leaves on as Docker does, is on for good by then)."""
    from tests.reliability import foreign

    durations = {"apply": run.timed("apply", topology, places)}
    owned = each(places, partial(census.owned, topology=name))
    full = {host: len(found) for host, found in owned.items()}
    durations["destroy"] = run.timed("destroy", topology, places)
    baseline = each(places, census.settled_snapshot)
    foreigners = each(places, foreign.inventory)
    return Setup(topology, name, places, faults, durations, full, baseline, foreigners, seed)


def trial(setup: Setup, number: int) -> Trial:
    rng = random.Random(f"{setup.seed}:{number}")
    command = rng.choice(("apply", "destroy"))
    fault = rng.choice(setup.faults)
    delay = rng.uniform(0.0, setup.durations[command])
    result = Trial(number, command, fault, delay)
    if command == "destroy":  # of the whole topology: apply it first (its verify suffices)
        applied = run.cli("apply", setup.topology, "--yes", places=setup.places)
        if applied.returncode != 0:
            result.error = (f"apply before the destroy exited {applied.returncode}: "
                            f"{run.last_lines(applied)}")
            return result
    controller = run.start(command, setup.topology, setup.places)
    try:
        time.sleep(delay)
        result.hit = FAULTS[fault](controller, setup.places, rng)
        controller.wait(timeout=300)
    finally:
        if controller.poll() is None:
            controller.kill()
            controller.wait()
        assert controller.stdout is not None
        controller.stdout.close()
    quiet(setup.places)
    owned = each(setup.places, partial(census.owned, topology=setup.name))
    total, full = sum(len(found) for found in owned.values()), sum(setup.full.values())
    result.partial = 0 < total < full
    result.error = (run.converges(setup.topology, setup.places)
                    or run.destroys(setup.topology, setup.places, setup.name,
                                    setup.baseline, setup.foreigners))
    return result


def kill_controller(controller: subprocess.Popen[str], places: Mapping[str, Place],
                    rng: random.Random) -> str:
    if controller.poll() is not None:
        return ""
    os.kill(controller.pid, signal.SIGKILL)
    return f"the controller (PID {controller.pid})"


def kill_agent(controller: subprocess.Popen[str], places: Mapping[str, Place],
               rng: random.Random) -> str:
    return _kill_on_host(controller, places, rng, agents, "the agent")


def drop_ssh(controller: subprocess.Popen[str], places: Mapping[str, Place],
             rng: random.Random) -> str:
    return _kill_on_host(controller, places, rng, ssh_sessions, "the sshd session")


FAULTS: dict[str, Callable[[subprocess.Popen[str], Mapping[str, Place], random.Random], str]] = {
    "controller": kill_controller,
    "agent": kill_agent,
    "ssh": drop_ssh,
}


def _kill_on_host(controller: subprocess.Popen[str], places: Mapping[str, Place],
                  rng: random.Random, targets: Callable[[Place], list[int]], what: str) -> str:
    """SIGKILL, inside a host picked at random, of one of `targets` there: as soon as one
    exists, while the controller runs."""
    while controller.poll() is None:
        found = [(place, pid) for place in places.values() for pid in targets(place)]
        if found:
            place, pid = rng.choice(sorted(found, key=lambda f: (f[0].name, f[1])))
            if place.run("kill", "-KILL", str(pid), check=False).returncode == 0:
                return f"{what} on {place.name} (PID {pid} there)"
        time.sleep(0.02)
    return ""


def agents(place: Place) -> list[int]:
    """PIDs (inside the host) of netplan agents running there."""
    script = ("for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null "
              f"| grep -q '{AGENT_PATTERN}' && echo ${{p#/proc/}}; done; true")
    return [int(pid) for pid in place.sh(script).stdout.split()]


def ssh_sessions(place: Place) -> list[int]:
    """PIDs (inside the host) of the sshd processes serving a connection: the children of
    the host's sshd, its PID 1."""
    children = place.read("/proc/1/task/1/children") or ""
    return [int(pid) for pid in children.split()
            if (place.read(f"/proc/{pid}/comm") or "").startswith("sshd")]


def quiet(places: Mapping[str, Place]) -> None:
    """Until no agent runs on any lab host: one cut off by a fault finishes the request it
    was serving (its host has no lock yet to make the next apply wait for it)."""
    deadline = time.monotonic() + QUIET_TIMEOUT
    while any(p.pid is not None and agents(p) for p in places.values()):
        if time.monotonic() > deadline:
            raise AssertionError("an agent was still running 150 s after the fault")
        time.sleep(0.05)
