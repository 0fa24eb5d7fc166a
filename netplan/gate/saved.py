"""Saved plans: `netplan plan FILE --out plan.json`, applied later by `netplan apply plan.json`.

A saved plan is self-contained: per host the steps to run, the desired state they lead to
(to verify against, and to record as last-applied) and a fingerprint of the observed state
it was made from. Apply re-observes and refuses the plan when any host's fingerprint
moved: steps planned from stale facts are the bug pyinfra v3 removed by planning late.

Apply runs what the file says, so the file carries a digest of everything else in it
(`plan_digest`), and a plan whose content does not match it is refused before any host
is reached: a hand-edited step would otherwise run as edited, and be recorded as what
netplan planned. A digest, not a signature: it catches edits, not someone who recomputes
it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netplan.agent.resources import Vxlan, to_json
from netplan.agent.state import HostState, Step
from netplan.errors import NetplanError
from netplan.gate.record import Source
from netplan.output_file import write_whole
from netplan.plan.changes import HostPlan

PLAN_KIND = "netplan-plan"
FORMAT_VERSION = 3
"""3: `plan_digest`, checked by apply; 2: a hosts file's content is one string (1: a list
of lines)."""
DIGEST_KEY = "plan_digest"
MAX_BYTES = 256 << 20


class PlanFileError(NetplanError):
    """A saved plan that cannot be used: unreadable, or stale."""


class StalePlanError(NetplanError):
    """The hosts changed since the saved plan was made: nothing was changed."""

    def __init__(self, path: Path, file: str, hosts: list[str]) -> None:
        self.path, self.file, self.hosts = path, file, hosts
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        return [
            f"host {host}: the saved plan {self.path} is stale: the host changed since the "
            f"plan was made; nothing was changed (hint: re-run netplan plan {self.file} "
            f"--out {self.path})"
            for host in self.hosts
        ]


def fingerprint(observed: HostState, desired: HostState) -> str:
    """`sha256:<hex>` of what the plan depends on: the observed resources in canonical
    form, and who holds the names (and the VNIs) the desired resources need (others'
    objects that come and go elsewhere on the host do not make a plan stale)."""
    resources = sorted(json.dumps(to_json(r), sort_keys=True) for r in observed.resources.values())
    claims = {claim for r in desired.resources.values() for claim in r.claims()}
    foreign = sorted((k, v) for k, v in observed.foreign.items() if k in claims)
    content: dict[str, Any] = {"resources": resources, "foreign": foreign}
    vnis = {(r.vni, r.port) for r in desired.resources.values() if isinstance(r, Vxlan)}
    taken = sorted(name for name, v in observed.facts.vnis_in_use.items()
                   if (v.vni, v.port) in vnis)
    if taken:  # only then, so that every other plan keeps the fingerprint it had
        content["vnis_taken"] = taken
    canonical = json.dumps(content, sort_keys=True)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class SavedHost:
    underlay: str | None
    fingerprint: str
    desired: HostState
    steps: list[Step]


@dataclass(frozen=True)
class SavedPlan:
    topology: str
    source: Source
    destroy: bool
    hosts: dict[str, SavedHost]

    @classmethod
    def of(
        cls, topology: str, source: Source, destroy: bool,
        plans: dict[str, HostPlan], underlays: dict[str, str | None],
    ) -> SavedPlan:  # fmt: skip
        hosts = {
            name: SavedHost(
                underlays.get(name), fingerprint(p.observed, p.desired), p.desired, list(p.steps)
            )
            for name, p in plans.items()
        }
        return cls(topology, source, destroy, hosts)

    def to_json(self) -> dict[str, Any]:
        """The document, its content digest included."""
        document = self._content()
        return {**document, DIGEST_KEY: content_digest(document)}

    def _content(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "kind": PLAN_KIND,
            "topology": self.topology,
            **self.source.to_json(),
            "destroy": self.destroy,
            "hosts": {
                name: {
                    "underlay": host.underlay,
                    "fingerprint": host.fingerprint,
                    "steps": [step.to_json() for step in host.steps],
                    "desired": [to_json(r, carried=False) for r in host.desired.resources.values()],
                }
                for name, host in self.hosts.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str) -> SavedPlan:
        """The plan, once its format is this netplan's and its content matches its digest."""
        _check_version(data, where)
        if data.get(DIGEST_KEY) != content_digest(data):
            raise PlanFileError(
                f"{where}: the plan file was changed after netplan plan wrote it (its content "
                f"does not match its {DIGEST_KEY}); nothing was changed (hint: run "
                f"{_replan(data, where)} again)"
            )
        try:
            hosts = {}
            for name, host in data["hosts"].items():
                desired = HostState.decoded(host["desired"])
                steps = [Step.from_json(step) for step in host["steps"]]
                hosts[str(name)] = SavedHost(host["underlay"], str(host["fingerprint"]),
                                             desired, steps)  # fmt: skip
            source = Source(str(data["file"]), str(data["digest"]), str(data.get("path", "")))
            return cls(str(data["topology"]), source, bool(data["destroy"]), hosts)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise PlanFileError(
                f"{where}: not a usable netplan plan ({type(error).__name__}: {error}) "
                f"(hint: re-run netplan plan FILE --out {where})"
            ) from None


def content_digest(document: dict[str, Any]) -> str:
    """`sha256:<hex>` of the document's canonical JSON (keys sorted, no spaces), its
    digest left out: what `plan --out` writes and apply trusts."""
    content = {key: value for key, value in document.items() if key != DIGEST_KEY}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _check_version(data: dict[str, Any], where: str) -> None:
    version = data.get("format_version")
    if version == FORMAT_VERSION:
        return
    if isinstance(version, int) and 0 < version < FORMAT_VERSION:
        raise PlanFileError(
            f"{where}: plan format {version} was written by an older netplan, without the "
            f"{DIGEST_KEY} this one checks; nothing was changed (hint: run "
            f"{_replan(data, where)} again)"
        )
    raise PlanFileError(
        f"{where}: plan format {version!r} is not supported (hint: re-run netplan plan "
        f"with this version)"
    )


def _replan(data: dict[str, Any], where: str) -> str:
    """The command that writes the plan again, from the topology file it names."""
    file = data.get("file")
    named = isinstance(file, str) and file.isprintable() and file
    return f"netplan plan {named or 'FILE'} --out {where}"


def read_saved_plan(path: str | os.PathLike[str]) -> SavedPlan | None:
    """The saved plan in `path`, or None when the file is something else (a topology:
    YAML, which may also be JSON, but never with `"kind": "netplan-plan"`)."""
    try:
        with open(path, "rb") as file:
            text = file.read(MAX_BYTES).lstrip()
        if not text.startswith(b"{"):
            return None
        data = json.loads(text)
    except (OSError, ValueError):
        return None  # the topology loader reports a missing or unreadable file
    if not is_plan_document(data):
        return None
    return SavedPlan.from_json(data, os.fspath(path))


def is_plan_document(data: Any) -> bool:
    """A parsed file is a saved plan: `apply` runs it; the topology loader refuses it."""
    return isinstance(data, dict) and data.get("kind") == PLAN_KIND


def write_saved_plan(plan: SavedPlan, path: Path) -> None:
    text = json.dumps(plan.to_json(), indent=1) + "\n"
    write_whole(path, text.encode(), "plan", source=Path(plan.source.file))


def stale_hosts(plan: SavedPlan, observed: dict[str, HostState]) -> list[str]:
    """Hosts whose observed state is no longer the one the plan was made from."""
    return [
        name for name, host in plan.hosts.items()
        if fingerprint(observed[name], host.desired) != host.fingerprint
    ]  # fmt: skip
