"""The firewall on the real kernel: tables loaded whole and atomically, read back equal to
what was rendered, nobody else's tables touched; the sysctls that go with them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from netplan.agent.api import StepFailed
from netplan.agent.resources import (
    IP_FORWARD,
    Bridge,
    NftTable,
    Resource,
    Sysctl,
    nft_table_name,
    route_localnet,
)
from netplan.agent.state import HostState
from netplan.agent.sysctl import read
from netplan.compile import compile_topology
from netplan.plan.order import plan_host
from netplan.topology.model import Topology
from tests.kernel.kernel_helpers import BRIDGE_MAC, create, delete, owned, run_json, sh, update

EVERY_RULE = Path(__file__).parents[1] / "fixtures" / "firewall" / "every-rule.yaml"


def rendered(topology: str) -> list[Resource]:
    """The tables (and ip_forward) of a topology using every rule shape there is."""
    spec = {**yaml.safe_load(EVERY_RULE.read_text()), "name": topology}
    desired = compile_topology(Topology.model_validate(spec), {"local": HostState()})["local"]
    return [r for r in desired.resources.values()
            if isinstance(r, NftTable) or (isinstance(r, Sysctl) and r.dev is None)]


def ruleset_but(name: str) -> list[dict[str, Any]]:
    """`nft -j list ruleset` without the tables called `name` (nor the version line)."""
    items: list[dict[str, Any]] = run_json("nft", "-j", "list", "ruleset")["nftables"]
    return [i for i in items if "metainfo" not in i
            and next(iter(i.values())).get("table", next(iter(i.values())).get("name")) != name]


def assert_in_sync(topology: str, *desired: Resource) -> None:
    """The second plan is empty: what was made reads back as what was asked for."""
    wanted = HostState({r.key: r for r in desired})
    assert plan_host("local", wanted, HostState(dict(owned(topology)))).empty


@pytest.fixture(autouse=True)
def no_tables_left(topology: str) -> Iterator[None]:
    """Delete the topology's tables even when a test fails half way."""
    yield
    for family in ("inet", "bridge"):
        subprocess.run(["nft", "delete", "table", family, nft_table_name(topology)],
                       capture_output=True)


@pytest.fixture
def foreign_tables() -> Iterator[None]:
    """Someone else's tables, with a FORWARD chain whose policy is drop (Docker's)."""
    sh("nft add table ip foreign")
    sh("nft 'add chain ip foreign FORWARD { type filter hook forward priority 0; policy drop; }'")
    sh("nft add rule ip foreign FORWARD iifname lo accept")
    sh("nft add table inet netplan_lookalike")
    yield
    sh("nft delete table ip foreign; nft delete table inet netplan_lookalike")


def test_rendered_tables_read_back_equal_and_plan_nothing(
    topology: str, foreign_tables: None
) -> None:
    name = nft_table_name(topology)
    before = ruleset_but(name)
    wanted = rendered(topology)
    create(topology, *wanted)
    observed = owned(topology)
    assert observed == {r.key: r for r in wanted}
    listed = subprocess.run(["nft", "list", "table", "inet", name],
                            capture_output=True, text=True, check=True).stdout
    assert "fib daddr type local tcp dport 8080 dnat ip to 172.30.0.2:80" in listed
    assert_in_sync(topology, *wanted)
    delete(topology, *(r for r in wanted if isinstance(r, NftTable)))
    assert owned(topology) == {}
    assert ruleset_but(name) == before


def test_a_refused_update_leaves_the_table_as_it_was(topology: str) -> None:
    table = next(r for r in rendered(topology) if isinstance(r, NftTable) and r.family == "inet")
    create(topology, table)
    broken = replace(table, rules=(*table.rules, "forward: jump nowhere"))
    with pytest.raises(StepFailed) as failed:
        update(topology, broken, "rules")
    assert failed.value.reason == ("nft: Error: Could not process rule: No such file or directory: "
                                   "jump nowhere")
    assert owned(topology)[table.key] == table
    update(topology, replace(table, rules=table.rules[1:]), "rules")
    assert_in_sync(topology, replace(table, rules=table.rules[1:]), Sysctl(IP_FORWARD, "1"))
    delete(topology, table)


def test_ip_forward_is_observed_with_the_table_and_left_on(topology: str) -> None:
    table = NftTable("inet", nft_table_name(topology))
    sh(f"sysctl -w {IP_FORWARD}=0")
    create(topology, table, Sysctl(IP_FORWARD, "1"))
    assert read(IP_FORWARD) == "1"
    assert_in_sync(topology, table, Sysctl(IP_FORWARD, "1"))
    delete(topology, table, Sysctl(IP_FORWARD, "1"))
    assert owned(topology) == {}
    assert read(IP_FORWARD) == "1"


def test_route_localnet_is_set_on_our_bridge_and_set_back(topology: str) -> None:
    bridge = Bridge("nbr0", "front", mtu=1500, mac=BRIDGE_MAC)
    setting = Sysctl(route_localnet("nbr0"), "1")
    create(topology, bridge, setting)
    assert_in_sync(topology, bridge, setting)
    delete(topology, setting)
    assert read(setting.name) == "0"
    assert owned(topology) == {bridge.key: bridge}
    delete(topology, bridge)


def test_a_flushed_table_reads_back_empty_and_is_reloaded(topology: str) -> None:
    table = next(r for r in rendered(topology) if isinstance(r, NftTable) and r.family == "inet")
    create(topology, table, Sysctl(IP_FORWARD, "1"))
    sh(f"nft flush table inet {table.name}")
    assert owned(topology)[table.key] == replace(table, rules=())
    update(topology, table, "rules")
    assert_in_sync(topology, table, Sysctl(IP_FORWARD, "1"))
    sh(f"nft delete table inet {table.name}")
    assert owned(topology) == {}


def test_a_dormant_table_is_drift_and_loaded_awake_again(topology: str) -> None:
    """`flags dormant` keeps every rule and evaluates none: the published ports and the
    masquerade are gone while `nft list` still shows them."""
    table = next(r for r in rendered(topology) if isinstance(r, NftTable) and r.family == "inet")
    create(topology, table, Sysctl(IP_FORWARD, "1"))
    sh(f"nft add table inet {table.name} '{{ flags dormant; }}'")
    assert owned(topology)[table.key] == replace(
        table, rules=(*table.rules, "? table flags dormant"))
    update(topology, table, "rules")
    listed = subprocess.run(["nft", "list", "table", "inet", table.name],
                            capture_output=True, text=True, check=True).stdout
    assert "dormant" not in listed
    assert_in_sync(topology, table, Sysctl(IP_FORWARD, "1"))
    delete(topology, table)


def test_every_json_listing_line_is_accounted_for(topology: str) -> None:
    """A rule nft lists is one canonical line: the text `nft list` prints for it."""
    table = next(r for r in rendered(topology) if isinstance(r, NftTable) and r.family == "inet")
    create(topology, table, Sysctl(IP_FORWARD, "1"))
    text = subprocess.run(["nft", "list", "table", "inet", table.name],
                          capture_output=True, text=True, check=True).stdout
    printed = [line.strip() for line in text.splitlines()]
    assert all(rule.partition(": ")[2] in printed for rule in table.rules)
    listing = json.loads(subprocess.run(["nft", "-j", "list", "table", "inet", table.name],
                                        capture_output=True, text=True, check=True).stdout)
    assert sum("rule" in item for item in listing["nftables"]) == len(table.rules)
    assert_in_sync(topology, table, Sysctl(IP_FORWARD, "1"))
    delete(topology, table)
