"""Generated valid topologies on the kernel: each applies, the compile cache holds what
the check after it needs (tests/cache_view.py), a second plan is empty, and destroy
leaves nothing of it (checked with `ip -j link`, `ip netns`, `nft -j list tables`
and a whole snapshot of the sandbox's network, before and after).

Inputs come from tests/topology_strategies.py; how many from tests/fuzzing.py
(`make test`: 10, the same every run, which between them draw every network option and
container mode of the strategy; `make fuzz`: 100 random ones).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.cache_view import assert_ready_for_the_check
from tests.e2e.hostview import assert_unchanged, ip_json, netns_names, netplan, snapshot
from tests.e2e.test_stop_signals import stopped
from tests.fuzzing import fuzz
from tests.topology_strategies import topologies


def marked_links(topology: str) -> list[str]:
    """Links in the sandbox whose alias marks them as the topology's."""
    return [
        link["ifname"]
        for link in ip_json("link", "show")
        if str(link.get("ifalias", "")).startswith(f"netplan:{topology}:")
    ]


def nft_tables() -> set[str]:
    out = subprocess.run(["nft", "-j", "list", "tables"], capture_output=True, text=True).stdout
    entries = json.loads(out)["nftables"] if out.strip() else []
    return {entry["table"]["name"] for entry in entries if "table" in entry}


def namespaces(data: dict[str, Any]) -> set[str]:
    """The containers that get a namespace of their own (not `host`, not `container:`)."""
    containers = data["containers"] or {}
    return {
        name for name, spec in containers.items()
        if not (spec or {}).get("network_mode", "none").startswith(("host", "container:"))
    }  # fmt: skip


@contextlib.contextmanager
def applied(data: dict[str, Any]) -> Iterator[Path]:
    """`data` in a topology file, applied; destroyed at the end, whatever happened."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "topology.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        try:
            netplan("apply", path, "--yes", check=True)
            yield path
        finally:
            netplan("destroy", path, "--yes", check=True)


@fuzz(10, long=100)
@given(data=topologies())
def test_a_generated_topology_applies_and_destroys_cleanly(data: dict[str, Any]) -> None:
    name = data["name"]
    before = snapshot()
    with applied(data) as path:
        assert namespaces(data) <= netns_names()
        assert_ready_for_the_check(path)
        assert netplan("plan", path, "--detailed-exitcode").returncode == 0, "not in sync"
    assert not marked_links(name)
    assert not namespaces(data) & netns_names()
    assert f"netplan_{name}" not in nft_tables()
    assert_unchanged(before, snapshot())


@fuzz(6, long=60)
@given(pair=st.data())
def test_a_generated_change_applies_and_converges(pair: st.DataObject) -> None:
    """A generated topology applied, then a neighbour of it (tests/topology_strategies.py:
    networks and containers changed in place, moved, renamed bridges, gone): the second
    apply converges (its plan is then empty) and destroy leaves the sandbox as before."""
    first = pair.draw(topologies())
    before = snapshot()
    with applied(first) as path:
        second = pair.draw(topologies(like=first))
        path.write_text(yaml.safe_dump(second, sort_keys=False))
        result = netplan("apply", path, "--yes")
        assume(not refused_address(result))
        assert result.returncode == 0, result.stderr
        assert namespaces(second) <= netns_names()
        assert netplan("plan", path, "--detailed-exitcode").returncode == 0, "not in sync"
    assert not marked_links(first["name"])
    assert_unchanged(before, snapshot())


def refused_address(result: subprocess.CompletedProcess[str]) -> bool:
    """Whether apply refused a static address another container keeps (exit 1, nothing
    changed), as it must: such a neighbour is not tried."""
    return result.returncode == 1 and ".ipv4: address " in result.stderr \
        and " is already in use: " in result.stderr


@fuzz(4, long=40)
@given(pair=st.data())
def test_a_generated_change_stopped_at_any_step_is_rolled_back(pair: st.DataObject) -> None:
    """A generated topology applied, then a neighbour of it applied and stopped (SIGTERM,
    tests/e2e/stop_harness.py) before a step drawn among its steps: exit 1, rolled back,
    and the host as `ip`, `nft` and the hosts files showed it before (what the kernel
    chooses aside: interface indexes, a host-side end's MAC), its plan empty again."""
    first = pair.draw(topologies())
    with applied(first) as path:
        before = host_view()
        path.write_text(yaml.safe_dump(pair.draw(topologies(like=first)), sort_keys=False))
        plan = netplan("plan", path, "--json")
        assume(plan.returncode == 0)  # not a static address another container keeps
        total = json.loads(plan.stdout)["hosts"]["local"]["steps"]
        assume(total > 0)
        step = pair.draw(st.integers(0, total - 1))
        assert_stopped_and_put_back(path, "apply", step, before)
        path.write_text(yaml.safe_dump(first, sort_keys=False))
        assert netplan("plan", path, "--detailed-exitcode").returncode == 0

@fuzz(3, long=30)
@given(data=topologies(), point=st.floats(0, 1, exclude_max=True))
def test_a_generated_destroy_stopped_at_any_step_puts_everything_back(
    data: dict[str, Any], point: float
) -> None:
    """A generated topology applied, then its destroy stopped (SIGTERM) before a step at
    `point` of its steps: exit 1, and the host as it was (host_view), its plan empty."""
    with applied(data) as path:
        before = host_view()
        plan = netplan("plan", path, "--destroy", "--json", check=True)
        step = int(point * json.loads(plan.stdout)["hosts"]["local"]["steps"])
        assert_stopped_and_put_back(path, "destroy", step, before)
        assert netplan("plan", path, "--detailed-exitcode").returncode == 0

def assert_stopped_and_put_back(path: Path, command: str, step: int,
                                before: dict[str, Any]) -> None:  # fmt: skip
    """`netplan COMMAND PATH --yes` stopped (SIGTERM) before its step `step` (0-based):
    exit 1, rolled back, and the host as host_view() showed it `before`."""
    result = stopped(f"step:{step}", "TERM", command, path, "--yes")
    assert result.returncode == 1, result.stderr
    back = f": the host is as it was before the {command}"
    assert result.stderr.splitlines()[1].endswith(back), result.stderr
    assert host_view() == before


def host_view() -> dict[str, Any]:
    """What a rollback must give back, read with `ip -j`, `nft` and the files: every
    namespace's links (name, MAC, addresses), the root's links with their bridges and
    addresses, the routes everywhere, the ruleset and the hosts files."""
    names = sorted(netns_names())
    inside = {ns: sorted((link["ifname"], link.get("address"), _addresses(link))
                         for link in ip_json("-n", ns, "address", "show"))
              for ns in names}  # fmt: skip
    routes = {ns: sorted(json.dumps(r, sort_keys=True)
                         for r in ip_json("-n", ns, "route", "show", "table", "all"))
              for ns in names}  # fmt: skip
    root = sorted((link["ifname"], link.get("master"), _addresses(link))
                  for link in ip_json("-d", "address", "show"))  # fmt: skip
    hosts = {str(p): p.read_text() for p in Path("/etc/netns").glob("*/hosts")}
    return {"inside": inside, "routes": routes, "root": root, "nft": _tables(),
            "hosts": hosts}  # fmt: skip


def _tables() -> dict[str, str]:
    """Each nftables table's rules, by family and name (a table made again is listed
    after the others: the order of the ruleset is not compared)."""
    listed = json.loads(subprocess.run(["nft", "-j", "list", "tables"], capture_output=True,
                                       text=True, check=True).stdout)["nftables"]  # fmt: skip
    names = [(e["table"]["family"], e["table"]["name"]) for e in listed if "table" in e]
    return {f"{family} {name}": subprocess.run(["nft", "list", "table", family, name],
                                               capture_output=True, text=True).stdout
            for family, name in names}  # fmt: skip


def _addresses(link: dict[str, Any]) -> list[str]:
    return sorted(f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", ())
                  if a["family"] == "inet")  # fmt: skip
