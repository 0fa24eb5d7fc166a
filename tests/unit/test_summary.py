"""The summary of an apply counts the steps as they went: from the agent's error (what
ran, the step refused, what the rollback undid) to the table and the JSON."""

from __future__ import annotations

from typing import Any

import pytest

from netplan.agent.resources import Netns
from netplan.agent.state import Step
from netplan.errors import NetplanError, VerifyError
from netplan.pipeline import Failure
from netplan.plan.changes import Change, HostPlan
from netplan.rollback import ApplyFailed, StepCounts, rollback_lines, step_counts
from netplan.summary import HostResult, host_results, render_results, results_json

REFUSED = {"message": "step 12: cannot create veth c4/eth0: already exists", "step": 11,
           "op": "create", "resource": "veth c4/eth0", "reason": "already exists", "errno": 17,
           "steps_done": 11, "steps_failed": 1}
STOPPED = {"message": "interrupted before step 8 of 29: cancelled (Ctrl-C)",
           "interrupted": True, "step": 7, "steps_done": 7, "steps_failed": 0}
IN_PARTS = {"message": "step 5: cannot create netns p6: already exists", "step": 4,
            "op": "create", "resource": "netns p6", "reason": "already exists", "errno": 17,
            "steps_done": 6, "steps_failed": 1}
NOT_STARTED = {"message": "step 27: cannot start process web: exited with 1; also not "
                          "started: process db: exited with 2", "step": 26, "op": "start",
               "resource": "process web", "reason": "…", "errno": 0,
               "steps_done": 27, "steps_failed": 2}


@pytest.mark.parametrize(("error", "counts"), [
    ({**REFUSED, "rollback": {"undone": 11, "of": 11, "failures": [], "seconds": 0.1}},
     StepCounts(11, 1, 11)),
    ({**REFUSED, "rollback": {"undone": 9, "of": 11, "failures": ["…", "…"], "seconds": 0.1}},
     StepCounts(11, 1, 9)),
    (REFUSED, StepCounts(11, 1, 0)),  # --no-rollback: the steps before it are kept
    ({**STOPPED, "rollback": {"undone": 7, "of": 7, "failures": [], "seconds": 0.1}},
     StepCounts(7, 0, 7)),
    (STOPPED, StepCounts(7, 0, 0)),
    (IN_PARTS, StepCounts(6, 1, 0)),  # --no-rollback: two made past step 5, side by side
    ({**IN_PARTS, "rollback": {"undone": 6, "of": 6, "failures": [], "seconds": 0.1}},
     StepCounts(6, 1, 6)),
    (NOT_STARTED, StepCounts(27, 2, 0)),
    ({"message": "cannot open a netlink socket: operation not permitted", "steps_done": 0,
      "steps_failed": 0}, StepCounts(0, 0, 0)),
    ({"message": "'undo' must be a list with one list of steps per step"}, StepCounts(0, 0, 0)),
], ids=["rolled-back", "partly-rolled-back", "kept", "stopped", "stopped-kept",
        "in-parts-kept", "in-parts-rolled-back", "processes-not-started", "nothing-ran",
        "refused-request"])  # fmt: skip
def test_the_agents_error_says_what_became_of_the_steps(
    error: dict[str, Any], counts: StepCounts
) -> None:
    assert step_counts(error) == counts


def plan(steps: int) -> HostPlan:
    """A plan of `steps` namespaces to make."""
    made = [Netns(f"c{i}") for i in range(steps)]
    return HostPlan("h", changes=[Change("create", ns.key, ns, None) for ns in made],
                    steps=[Step("create", ns) for ns in made])


PLANS = {"applied": plan(3), "synced": plan(0), "rolled": plan(29), "lost": plan(5),
         "unverified": plan(4)}
FAILED = {
    "rolled": Failure("apply", ApplyFailed("rolled", ["host rolled: cannot create veth c4/eth0",
                                                      "host rolled: rolled back 11 of 11 steps"],
                                           StepCounts(11, 1, 11))),
    "lost": Failure("apply", NetplanError("host lost: lost the connection during apply")),
    "unverified": Failure("verify", VerifyError("unverified", ["link:/br0.mtu: …"])),
    "down": Failure("connect", NetplanError("host down: the lab host is not running")),
}  # fmt: skip


def results() -> list[HostResult]:
    return host_results(["applied", "synced", "rolled", "lost", "unverified", "down"], PLANS,
                        FAILED)  # fmt: skip


def test_the_table_counts_what_ran_failed_and_was_rolled_back() -> None:
    rows = [line.split("  ") for line in render_results(results())]
    cells = [[cell.strip() for cell in row if cell.strip()] for row in rows]
    assert cells == [
        ["HOST", "RESULT", "PLANNED", "DONE", "FAILED", "ROLLED BACK"],
        ["applied", "applied", "3", "3", "0", "0"],
        ["synced", "in sync", "0", "0", "0", "0"],
        ["rolled", "failed at apply", "29", "11", "1", "11"],
        ["lost", "failed at apply", "5", "?", "0", "?"],
        ["unverified", "failed at verify", "4", "4", "0", "0"],
        ["down", "failed at connect", "-", "-", "-", "-"],
    ]


def test_the_json_counts_them_too() -> None:
    report = results_json(results())
    assert report["verified"] is False
    counted = {host: (r["steps"], r["done"], r["failed"], r["rolled_back"])
               for host, r in report["results"].items()}  # fmt: skip
    assert counted == {"applied": (3, 3, 0, 0), "synced": (0, 0, 0, 0),
                       "rolled": (29, 11, 1, 11), "lost": (5, None, 0, None),
                       "unverified": (4, 4, 0, 0), "down": (None, 0, 0, 0)}  # fmt: skip
    assert report["results"]["rolled"]["errors"] == ["host rolled: cannot create veth c4/eth0",
                                                     "host rolled: rolled back 11 of 11 steps"]


@pytest.mark.parametrize(("done", "differences", "first"), [
    ({"undone": 3, "of": 3, "seconds": 0.5}, [],
     "host a: rolled back 3 of 3 steps in 0.50 s: the host is as it was before the apply"),
    ({"undone": 3, "of": 3, "seconds": 0.5, "failures": ["cannot delete netns web: EROFS"]}, [],
     "host a: rolled back 3 of 3 steps in 0.50 s: what netplan observes is as it was before "
     "the apply, but 1 undo step(s) failed (hint: see below, and remove what is left by hand)"),
    ({"undone": 2, "of": 3, "seconds": 0.5}, ["netns:web: present"],
     "host a: rolled back 2 of 3 steps in 0.50 s; it still differs from before the apply: "
     "netns:web: present (hint: run apply again to converge)"),
])  # fmt: skip
def test_a_rollback_says_whether_the_host_is_back(
    done: dict[str, Any], differences: list[str], first: str
) -> None:  # fmt: skip
    lines = rollback_lines("a", done, differences)
    assert lines[0] == first
    assert lines[1:] == [f"host a: could not undo: {f}" for f in done.get("failures", [])]
