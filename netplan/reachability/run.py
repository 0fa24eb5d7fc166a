"""Run the planned checks: one `probe` request per host (every check starting there),
the hosts in parallel; a host that cannot be reached fails its checks, not the others."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from netplan.errors import NetplanError
from netplan.pipeline import Hosts, call
from netplan.reachability.resolve import PlannedCheck, by_host
from providers.base import HostConnection

Got = Literal["reachable", "unreachable", "error"]


@dataclass(frozen=True)
class CheckResult:
    planned: PlannedCheck
    got: Got
    detail: str
    """What the probe saw (`echo reply`, `no answer`, ...) or why it could not run."""
    attempts: int
    seconds: float

    @property
    def passed(self) -> bool:
        return self.got == self.planned.check.expect


def run_checks(topology: str, planned: list[PlannedCheck], hosts: Hosts,
               refused: Mapping[int, str]) -> list[CheckResult]:
    """A result for every planned check, in the order of `checks:`; those `refused` (by
    index, with why) make no probe and fail with that reason."""
    grouped = by_host([check for check in planned if check.index not in refused])

    def one(host: HostConnection) -> list[CheckResult]:
        checks = grouped.get(host.name, [])
        if not checks:
            return []
        answer = call(host, {"op": "probe", "topology": topology,
                             "probes": [c.probe_json() for c in checks]})
        outcomes = {o["id"]: o for o in answer["outcomes"]}
        return [_result(check, outcomes.get(check.index)) for check in checks]

    results = [CheckResult(check, "error", refused[check.index], 0, 0.0)
               for check in planned if check.index in refused]
    results += [r for found in hosts.each("verify", one).values() for r in found]
    for name, failure in hosts.failed.items():
        results += [_failed(check, name, failure.error) for check in grouped.get(name, [])]
    return sorted(results, key=lambda r: r.planned.index)


def _result(check: PlannedCheck, outcome: dict[str, object] | None) -> CheckResult:
    if outcome is None:
        return CheckResult(check, "error", "the agent returned no outcome", 0, 0.0)
    reachable, detail = bool(outcome["reachable"]), str(outcome["detail"])
    tried = int(str(outcome["attempts"]))
    got: Got = "reachable" if reachable else ("unreachable" if tried else "error")
    return CheckResult(check, got, detail, tried, float(str(outcome["seconds"])))


def _failed(check: PlannedCheck, host: str, error: NetplanError) -> CheckResult:
    return CheckResult(check, "error", f"host {host} failed: {error.lines()[0]}", 0, 0.0)
