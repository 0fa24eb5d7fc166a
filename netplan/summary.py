"""What happened on each host of an apply or destroy: a table for people, JSON for programs.

The steps are counted as they went, not as planned: on a host whose apply failed and
was rolled back, the steps that ran, the one refused and those undone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from netplan.pipeline import Failure
from netplan.plan.changes import HostPlan
from netplan.rollback import ApplyFailed, StepCounts

NOTHING_RAN = StepCounts(0)

COUNTED_HERE = ("PLANNED", "DONE", "FAILED", "ROLLED BACK")
"""The table's step columns."""


@dataclass(frozen=True)
class HostResult:
    host: str
    result: str
    """`applied`, `in sync`, or `failed at <stage>`."""
    steps: int | None
    """Planned; None when the host was not planned (it failed before)."""
    errors: list[str]
    counts: StepCounts = NOTHING_RAN
    """What became of the steps."""


def host_results(
    hosts: Iterable[str], plans: Mapping[str, HostPlan], failed: Mapping[str, Failure]
) -> list[HostResult]:
    """One result per host of the topology, in its order."""
    results = []
    for host in hosts:
        plan = plans.get(host)
        steps = None if plan is None else len(plan.steps)
        if host in failed:
            failure = failed[host]
            counts = counts_of(failure, steps or 0)
            results.append(HostResult(host, f"failed at {failure.stage}", steps,
                                      failure.error.lines(), counts))  # fmt: skip
        else:
            result = "in sync" if plan is None or plan.empty else "applied"
            results.append(HostResult(host, result, steps, [], StepCounts(steps or 0)))
    return results


def counts_of(failure: Failure, planned: int) -> StepCounts:
    """What became of a failed host's steps: as the failure says (netplan/rollback.py);
    else every one ran when the host failed after its apply (verify, record; at confirm
    the agent reverts them by itself when its controller goes, how many it undid
    unknown), none before it, and how many is unknown when the apply itself broke off (a
    lost connection)."""
    if isinstance(failure.error, ApplyFailed) and failure.error.counts is not None:
        return failure.error.counts
    if failure.stage in ("verify", "record"):
        return StepCounts(planned)
    if failure.stage == "confirm":
        return StepCounts(planned, rolled_back=None)
    if failure.stage == "apply":
        return StepCounts(None, rolled_back=None)
    return NOTHING_RAN


def render_results(results: list[HostResult]) -> list[str]:
    """A table: host, result and its steps (planned, done, failed, rolled back; `-` for
    a host not planned, `?` for what is not known); the errors are printed as errors."""
    width = max([len("HOST"), *(len(r.host) for r in results)])
    lines = [f"{'HOST':<{width}}  {'RESULT':<20}  " + "  ".join(COUNTED_HERE)]
    for r in results:
        counts = (r.steps, r.counts.done, r.counts.failed, r.counts.rolled_back)
        cells = [f"{_shown(count, r.steps):>{len(title)}}"
                 for count, title in zip(counts, COUNTED_HERE, strict=True)]  # fmt: skip
        lines.append(f"{r.host:<{width}}  {r.result:<20}  " + "  ".join(cells))
    return lines


def _shown(count: int | None, planned: int | None) -> str:
    """A count, `-` for a host not planned, `?` for a count not known."""
    if planned is None:
        return "-"
    return "?" if count is None else str(count)


def results_json(results: list[HostResult]) -> dict[str, Any]:
    """Each host's result, and `verified`: whether every host now matches what was asked
    (`in_sync`, beside it, says whether they did before). A host's `steps` are those
    planned; `done`, `failed` and `rolled_back` say what became of them (null: not known)."""
    return {
        "verified": all(not r.errors for r in results),
        "results": {r.host: _result_json(r) for r in results},
    }


def _result_json(r: HostResult) -> dict[str, Any]:
    counts = r.counts
    return {"result": r.result, "steps": r.steps, "done": counts.done, "failed": counts.failed,
            "rolled_back": counts.rolled_back, "errors": r.errors}  # fmt: skip
