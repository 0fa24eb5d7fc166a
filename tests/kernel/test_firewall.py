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

from netplan.agent import firewall, ports
from netplan.agent.api import AgentFailure, StepFailed
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


def nft_text(*args: str) -> str:
    return subprocess.run(["nft", *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture(params=["", "-with-a-longer-name"], ids=["short name", "longer name"])
def named(request: pytest.FixtureRequest, topology: str) -> Iterator[str]:
    """The test's topology name, or a longer one (whose tables are deleted afterwards)."""
    yield topology + request.param
    for family in ("inet", "bridge"):
        subprocess.run(["nft", "delete", "table", family, nft_table_name(topology + request.param)],
                       capture_output=True)


def test_a_dormant_table_is_drift_and_loaded_awake_again(named: str) -> None:
    """`flags dormant` keeps every rule and evaluates none: the published ports and the
    masquerade are gone while `nft list` still shows them. nft 1.0.6 prints the JSON of a
    table with one flag from freed memory: for a short name (this test's own) the name as
    its flags, for one of 16 characters or more (`isolated-bridges`) output cut off after
    `"flags": `, which crashed every command."""
    table = next(r for r in rendered(named) if isinstance(r, NftTable) and r.family == "inet")
    create(named, table, Sysctl(IP_FORWARD, "1"))
    sh(f"nft add table inet {table.name} '{{ flags dormant; }}'")
    assert "\tflags dormant\n" in nft_text("list", "table", "inet", table.name)
    assert owned(named)[table.key] == replace(table, rules=(*table.rules, "? table flags dormant"))
    update(named, table, "rules")
    assert "flags" not in nft_text("list", "table", "inet", table.name)
    assert f"table inet {table.name}\n" in nft_text("list", "tables")
    ours = [item["table"] for item in run_json("nft", "-j", "list", "ruleset")["nftables"]
            if item.get("table", {}).get("name") == table.name]
    assert len(ours) == 1 and "flags" not in ours[0]
    assert_in_sync(named, table, Sysctl(IP_FORWARD, "1"))
    delete(named, table)


def test_another_topologys_dormant_table_is_read_for_the_ports_it_publishes(named: str) -> None:
    """Another topology's tables are read for their published ports (netplan/agent/ports.py),
    a dormant one chain by chain as well."""
    table = next(r for r in rendered(named) if isinstance(r, NftTable) and r.family == "inet")
    create(named, table)
    sh(f"nft add table inet {table.name} '{{ flags dormant; }}'")
    found = firewall.others("someone-else", firewall.tables())
    assert found[named] == table
    assert {taken.port for taken in ports.published(named, found[named])} == {
        8080, 5353, 9000, 8443, 81}
    delete(named, table)


def test_a_table_nft_cannot_list_is_one_line_naming_it(
    topology: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What nft prints that is not JSON is no internal error: the observation fails with
    one line naming the table, and a hint."""
    table = next(r for r in rendered(topology) if isinstance(r, NftTable) and r.family == "inet")
    create(topology, table)
    real = subprocess.run

    def cut_off(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        done = real(command, **kwargs)
        if command[:2] == ["nft", "-j"]:
            done.stdout = done.stdout[:200]
        return done

    monkeypatch.setattr(subprocess, "run", cut_off)
    with pytest.raises(AgentFailure) as failed:
        owned(topology)
    monkeypatch.undo()
    assert failed.value.message.startswith(
        f"cannot read nft table inet {table.name}: 'nft -j list table inet {table.name}' "
        "printed what is not JSON (")
    assert f"(hint: look at it with 'nft list table inet {table.name}'" in failed.value.message
    assert "\n" not in failed.value.message
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
