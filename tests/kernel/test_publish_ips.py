"""The host's addresses, observed when asked (Facts.local_ips), against `ip -j addr`; a
port published on one of them is applied, one published on an IP the host does not have
is refused before anything changes (`nft -j`, `ip -j addr`), and a second plan is empty."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Interface, IPv4Network

import pytest

from netplan.agent.api import execute, observe
from netplan.agent.resources import nft_table_name
from netplan.agent.state import HostState
from netplan.compile import compile_topology
from netplan.errors import ConflictError
from netplan.pipeline import refuse_conflicts
from netplan.plan.changes import HostPlan
from netplan.plan.order import plan_host
from netplan.topology.model import Topology
from tests.kernel.kernel_helpers import ip, run_json, sh

PORT = 23470
ABSENT = "192.0.2.99"
"""An address no link of the sandbox has (TEST-NET-1)."""


FOREIGN = ("pubx0", "198.51.100.7")
"""A bridge netplan does not own, and its address."""


@pytest.fixture
def foreign_link() -> Iterator[tuple[str, str]]:
    """FOREIGN, made up with its address (by hand, as a user would), deleted after."""
    name, address = FOREIGN
    sh(f"ip link add {name} type bridge && ip addr add {address}/24 dev {name} && "
       f"ip link set {name} up")
    yield FOREIGN
    sh(f"ip link del {name}")


def topology_of(name: str, publish: list[str]) -> Topology:
    return Topology.model_validate({
        "name": name, "networks": {"front": {"subnet": "10.214.1.0/24"}},
        "containers": {"web": {"networks": ["front"], "publish": publish}}})


def plan_of(topology: Topology | None, name: str) -> HostPlan:
    """The plan of `topology` (None: destroy topology `name`), the host's addresses asked."""
    observed = observe(name, ports=True, local_ips=True)
    desired = compile_topology(topology, {"local": observed})["local"] if topology else HostState()
    return plan_host("local", desired, observed)


def local_networks() -> set[str]:
    """What `ip -j addr` says the host takes as its own: lo its subnets, another link
    each of its IPv4 addresses."""
    found = set()
    for link in ip("-4", "addr", "show"):
        for entry in link.get("addr_info", []):
            address = IPv4Interface(f"{entry['local']}/{entry['prefixlen']}")
            found.add(str(address.network if link["ifname"] == "lo" else IPv4Network(address.ip)))
    return found


def test_the_host_addresses_are_read_when_asked(
    topology: str, foreign_link: tuple[str, str]
) -> None:
    """Every link's, whoever owns it; lo's whole subnet; nothing else."""
    _, address = foreign_link
    local_ips = observe(topology, local_ips=True).facts.local_ips
    assert local_ips is not None
    assert {f"{address}/32", "127.0.0.0/8"} <= local_networks() == set(local_ips)
    assert observe(topology).facts.local_ips is None  # not asked: not read


def test_a_port_is_published_on_an_address_the_host_has_and_refused_on_one_it_lacks(
    topology: str, foreign_link: tuple[str, str]
) -> None:
    _, address = foreign_link
    refused = plan_of(topology_of(topology, [f"{ABSENT}:{PORT}:80"]), topology)
    before = (run_json("nft", "-j", "list", "ruleset"), ip("addr", "show"))
    with pytest.raises(ConflictError) as error:
        refuse_conflicts({"local": refused})
    assert error.value.lines() == [
        f"host local: published port {ABSENT}:{PORT}:80/tcp of container 'web' is bound to "
        f"{ABSENT}, which is not an address of host local; nothing was changed (hint: use an "
        "address of host local (`ip -br addr` lists them), or leave the IP out to publish on "
        "all of them)"]
    assert (run_json("nft", "-j", "list", "ruleset"), ip("addr", "show")) == before
    assert observe(topology).resources == {}

    accepted = topology_of(topology, [f"{address}:{PORT}:80", f"10.214.1.1:{PORT + 1}:80"])
    plan = plan_of(accepted, topology)
    assert not plan.conflicts  # the foreign bridge's address, and the gateway to be made
    execute(topology, plan.steps)
    rules = run_json("nft", "-j", "list", "table", "inet", nft_table_name(topology))
    daddrs = {e["match"]["right"] for item in rules["nftables"] if "rule" in item
              for e in item["rule"]["expr"] if "match" in e
              and e["match"]["left"].get("payload", {}).get("field") == "daddr"}  # fmt: skip
    assert {address, "10.214.1.1"} <= daddrs
    assert plan_of(accepted, topology).empty
    execute(topology, plan_of(None, topology).steps)  # its table too (the fixture's does not)
    assert observe(topology).resources == {}
