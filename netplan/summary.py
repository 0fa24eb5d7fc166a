"""What happened on each host of an apply or destroy: a table for people, JSON for programs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from netplan.pipeline import Failure
from netplan.plan.changes import HostPlan


@dataclass(frozen=True)
class HostResult:
    host: str
    result: str
    """`applied`, `in sync`, or `failed at <stage>`."""
    steps: int | None
    errors: list[str]


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
            results.append(HostResult(host, f"failed at {failure.stage}", steps,
                                      failure.error.lines()))  # fmt: skip
        else:
            result = "in sync" if plan is None or plan.empty else "applied"
            results.append(HostResult(host, result, steps, []))
    return results


def render_results(results: list[HostResult]) -> list[str]:
    """A table: host, result, steps; the errors themselves are printed as errors."""
    width = max([len("HOST"), *(len(r.host) for r in results)])
    lines = [f"{'HOST':<{width}}  {'RESULT':<20}  STEPS"]
    for r in results:
        steps = "-" if r.steps is None else str(r.steps)
        lines.append(f"{r.host:<{width}}  {r.result:<20}  {steps:>5}")
    return lines


def results_json(results: list[HostResult]) -> dict[str, Any]:
    """Each host's result, and `verified`: whether every host now matches what was asked
    (`in_sync`, beside it, says whether they did before)."""
    return {
        "verified": all(not r.errors for r in results),
        "results": {
            r.host: {"result": r.result, "steps": r.steps, "errors": r.errors} for r in results
        },
    }
