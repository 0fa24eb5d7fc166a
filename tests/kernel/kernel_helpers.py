"""Helpers for kernel tests: drive the agent, and look with independent eyes (`ip -j`)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from netplan.agent import split
from netplan.agent.api import execute, observe
from netplan.agent.resources import ROOT, Address, Bridge, Netns, Resource, Route, Veth, Vxlan
from netplan.agent.state import HostState, Step
from netplan.plan.changes import HostPlan
from netplan.plan.order import plan_host


def splits_counted(monkeypatch: pytest.MonkeyPatch, cpus: int) -> list[int]:
    """Make split.cpus() say `cpus`; the number of parts of each split (split.in_parts
    and split.beside_parts) as they happen."""
    monkeypatch.setattr(split, "cpus", lambda: cpus)
    splits: list[int] = []
    beside_parts = split.beside_parts

    def counted(items: Any, work: Any, parts: int, beside: Any, beside_items: int) -> Any:
        splits.append(parts)
        return beside_parts(items, work, parts, beside, beside_items)

    monkeypatch.setattr(split, "beside_parts", counted)
    return splits


def create(topology: str, *resources: Resource) -> None:
    execute(topology, [Step("create", r) for r in resources])


def update(topology: str, resource: Resource, *fields: str) -> None:
    execute(topology, [Step("update", resource, fields)])


def delete(topology: str, *resources: Resource) -> None:
    execute(topology, [Step("delete", r) for r in resources])


def destroy(topology: str) -> None:
    """Delete every namespace, bridge and VXLAN device the topology owns (the rest goes
    with them)."""
    owned = observe(topology).resources.values()
    delete(topology, *(r for r in owned if isinstance(r, Netns | Bridge | Vxlan)))


def owned(topology: str) -> dict[str, Resource]:
    return observe(topology).resources


def plan(topology: str, *wanted: Resource) -> HostPlan:
    """What the planner would do to make the topology's objects `wanted`."""
    return plan_host("local", HostState({r.key: r for r in wanted}), observe(topology))


def keyed(*resources: Resource) -> dict[str, Resource]:
    """Resources as observe() returns them: what a second plan compares against."""
    return {r.key: r for r in resources}


def ip(*args: str, netns: str = "") -> Any:
    """`ip -j ...` (in namespace `netns`), parsed."""
    where = ["-n", netns] if netns else []
    return run_json("ip", *where, "-j", *args)


def link(name: str, netns: str = "") -> dict[str, Any]:
    found: list[dict[str, Any]] = ip("link", "show", "dev", name, netns=netns)
    return found[0]


def link_names(netns: str = "") -> set[str]:
    return {entry["ifname"] for entry in ip("link", "show", netns=netns)}


def netns_names() -> set[str]:
    return {entry["name"] for entry in ip("netns", "list")}


def addresses(dev: str, netns: str = "") -> set[str]:
    found = ip("addr", "show", "dev", dev, netns=netns)
    return {f"{a['local']}/{a['prefixlen']}" for a in found[0]["addr_info"]} if found else set()


def run_json(*command: str) -> Any:
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out) if out.strip() else []


def sh(command: str) -> None:
    """Set something up behind the agent's back, the way a user would."""
    subprocess.run(command, shell=True, check=True, capture_output=True)


GATEWAY = "172.31.0.1"
BRIDGE_MAC = "06:00:ac:1f:00:01"


def network(bridge: str = "nbr0", name: str = "front") -> list[Resource]:
    """A bridge with the gateway address, as a Docker bridge network has."""
    return [Bridge(bridge, name, mtu=1500, mac=BRIDGE_MAC), Address(ROOT, bridge, f"{GATEWAY}/24")]


def container(ns: str, host: int = 2, bridge: str = "nbr0", name: str = "front") -> list[Resource]:
    """A container on the bridge: namespace, veth, address, default route."""
    return [
        Netns(ns),
        Veth(ns, "eth0", f"nv{ns}", bridge, ns, name, mac=f"02:00:ac:1f:00:{host:02x}",
             peer_mtu=1500),
        Address(ns, "eth0", f"172.31.0.{host}/24"),
        Route(ns, "default", "eth0", GATEWAY),
    ]
