"""What `netplan check` found on each host: differences with their classes and the place
in the topology file each comes from, conflicts, and hosts that could not be checked.
Every output format (text, JSON, GitHub, JUnit) renders this one report."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from netplan.agent.resources import Resource
from netplan.gate.classify import Difference, classify
from netplan.gate.locate import Links, links_of, position
from netplan.gate.record import LastApplied, Source
from netplan.pipeline import Failure
from netplan.plan.changes import Conflict, HostPlan
from netplan.topology.positions import Pos, Positions

EXIT_IN_SYNC, EXIT_ERROR, EXIT_DIFFERS = 0, 1, 2


@dataclass(frozen=True)
class Located:
    difference: Difference
    pos: Pos | None


@dataclass(frozen=True)
class HostCheck:
    host: str
    differences: list[Located]
    conflicts: list[Conflict]
    record: LastApplied | None
    resources: dict[str, Resource]
    """Every resource desired or observed, by key: one JUnit test case each."""
    locate: Callable[[Resource], Pos | None] = field(default=lambda _: None, compare=False)
    """Where a resource comes from in the file. Asked for the differences, and for every
    resource by JUnit only: an in-sync check at N=1,000 has ~5,000 resources to skip."""

    @property
    def in_sync(self) -> bool:
        return not self.differences and not self.conflicts

    def positions(self) -> dict[str, Pos | None]:
        """Where each resource and each difference comes from in the file, by key."""
        where = {key: self.locate(resource) for key, resource in self.resources.items()}
        where.update((d.difference.key, d.pos) for d in self.differences)
        return where

    def count(self, name: str) -> int:
        return sum(name in d.difference.classes for d in self.differences)


@dataclass(frozen=True)
class CheckReport:
    topology: str
    source: Source
    hosts: list[HostCheck]
    failed: dict[str, Failure]
    """Hosts that could not be checked, with the stage and the error."""

    @property
    def reached_in_sync(self) -> bool:
        """Every host that could be checked matches (true when none could)."""
        return all(h.in_sync for h in self.hosts)

    @property
    def in_sync(self) -> bool:
        """The topology matches: every host was checked, and matches. A CI step that reads
        `in_sync` must not pass when a host could not be checked."""
        return not self.failed and self.reached_in_sync

    @property
    def exit_code(self) -> int:
        if self.failed:
            return EXIT_ERROR
        return EXIT_IN_SYNC if self.reached_in_sync else EXIT_DIFFERS

    def count(self, name: str) -> int:
        if name == "conflict":
            return sum(len(h.conflicts) for h in self.hosts)
        return sum(h.count(name) for h in self.hosts)


def build_report(
    topology: str,
    order: list[str],
    source: Source,
    plans: Mapping[str, HostPlan],
    records: Mapping[str, LastApplied | None],
    failed: Mapping[str, Failure],
    positions: Callable[[], Positions],
) -> CheckReport:
    """Hosts in the topology's `order`; a host that failed after planning counts as failed."""
    checks = []
    for host in order:
        plan = plans.get(host)
        if plan is None or host in failed:
            continue
        record = records.get(host)
        differences = _classified(plan, record, source) if plan.changes else []
        resources = {**plan.observed.resources, **plan.desired.resources}
        locate = _locator(resources, record, positions)
        located = [Located(d, locate(resources.get(d.key, d.resource))) for d in differences]
        checks.append(HostCheck(host, located, plan.conflicts, record, resources, locate))
    return CheckReport(topology, source, checks, {h: failed[h] for h in order if h in failed})


def _classified(plan: HostPlan, record: LastApplied | None, source: Source) -> list[Difference]:
    if record is None:
        return classify(plan, None, file_changed=True)
    return classify(plan, record.desired, record.source.digest != source.digest)


def _locator(
    resources: Mapping[str, Resource], record: LastApplied | None,
    positions: Callable[[], Positions],
) -> Callable[[Resource], Pos | None]:  # fmt: skip
    """Where a resource comes from in the file; the links it may sit on are gathered on
    the first call (an in-sync check makes none)."""

    @cache
    def links() -> Links:
        recorded = record.desired.resources.values() if record else ()
        return links_of([*resources.values(), *recorded])

    return lambda resource: position(resource, links(), positions)
