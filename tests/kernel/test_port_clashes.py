"""Two topologies on one host: a port one publishes, or a process of the host listens
on, is observed as taken (Facts.ports_in_use) and refused to the other as a conflict
before anything changes; the topology's own ports stay its own. Checked with `nft -j`
and `ss`, and a second plan that is empty."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from netplan.agent.api import execute, observe
from netplan.agent.resources import nft_table_name
from netplan.agent.state import HostState, PortInUse
from netplan.compile import compile_topology
from netplan.errors import ConflictError
from netplan.pipeline import refuse_conflicts
from netplan.plan.changes import HostPlan
from netplan.plan.order import plan_host
from netplan.topology.model import Topology
from tests.kernel.kernel_helpers import run_json

PORT = 23450
"""The first of the ports the tests publish and listen on, below the ephemeral range."""


def topology_of(name: str, subnet: str, publish: list[str]) -> Topology:
    """One bridge network and one container (called after the topology) publishing."""
    return Topology.model_validate({
        "name": name, "networks": {f"n-{name}": {"subnet": subnet}},
        "containers": {name: {"networks": [f"n-{name}"], "publish": publish}}})


def plan_of(topology: Topology | None, name: str) -> HostPlan:
    """The plan of `topology` (None: destroy topology `name`) against the host."""
    observed = observe(name, ports=True)
    desired = compile_topology(topology, {"local": observed})["local"] if topology else HostState()
    return plan_host("local", desired, observed)


def taken(name: str) -> set[PortInUse]:
    """The ports the observation of topology `name` says others take, when asked."""
    return set(observe(name, ports=True).facts.ports_in_use)


def applied(topology: Topology) -> None:
    plan = plan_of(topology, topology.name)
    assert not plan.conflicts
    execute(topology.name, plan.steps)


def ruleset() -> list[dict[str, Any]]:
    listing: list[dict[str, Any]] = run_json("nft", "-j", "list", "ruleset")["nftables"]
    return listing


def tables() -> set[str]:
    """The names of the host's nftables tables, as `nft -j` lists them."""
    return {item["table"]["name"] for item in ruleset() if "table" in item}


def dnat_ports(table: str) -> set[str]:
    """`port/protocol` of every DNAT rule of the inet table `table`, as `nft -j` lists it."""
    found = set()
    for item in ruleset():
        rule = item.get("rule")
        if rule is None or rule["table"] != table or not any("dnat" in e for e in rule["expr"]):
            continue
        found |= {f"{match['right']}/{match['left']['payload']['protocol']}"
                  for e in rule["expr"] if (match := e.get("match"))
                  and match["left"].get("payload", {}).get("field") == "dport"}
    return found


def listened() -> set[str]:
    """`address:port/protocol` of every listener `ss` lists."""
    found = set()
    for protocol in ("t", "u"):
        out = subprocess.run(["ss", "-Hln" + protocol], capture_output=True, text=True,
                             check=True).stdout  # fmt: skip
        found |= {f"{line.split()[3]}/{'tcp' if protocol == 't' else 'udp'}"
                  for line in out.splitlines()}
    return found


@pytest.fixture
def second(topology: str) -> Iterator[str]:
    """The other topology's name. Both topologies are destroyed afterwards, their tables
    with them."""
    name = f"{topology}b"
    yield name
    for each in (name, topology):
        execute(each, plan_of(None, each).steps)
    assert not {nft_table_name(topology), nft_table_name(name)} & tables()


@pytest.fixture
def listeners() -> Iterator[None]:
    """Processes of the host listening: TCP on 127.0.0.1 and UDP on every address."""
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        tcp.bind(("127.0.0.1", PORT + 2))
        tcp.listen()
        udp.bind(("0.0.0.0", PORT + 3))
        yield
    finally:
        tcp.close()
        udp.close()


@pytest.mark.usefixtures("listeners")
def test_a_port_taken_on_the_host_is_refused_to_another_topology(
    topology: str, second: str
) -> None:
    first = topology_of(topology, "10.213.1.0/24", [f"{PORT}:80", f"127.0.0.1:{PORT + 1}:53/udp"])
    applied(first)
    assert dnat_ports(nft_table_name(topology)) == {f"{PORT}/tcp", f"{PORT + 1}/udp"}
    assert {f"127.0.0.1:{PORT + 2}/tcp", f"0.0.0.0:{PORT + 3}/udp"} <= listened()
    assert {PortInUse("tcp", PORT, "0.0.0.0", topology),
            PortInUse("udp", PORT + 1, "127.0.0.1", topology),
            PortInUse("tcp", PORT + 2, "127.0.0.1"),
            PortInUse("udp", PORT + 3, "0.0.0.0")} <= taken(second)
    assert observe(second).facts.ports_in_use == ()  # not asked: not read

    other = topology_of(second, "10.213.2.0/24", [
        f"127.0.0.1:{PORT}:80", f"{PORT + 1}:53/udp", f"{PORT + 2}:80", f"{PORT + 3}:53/udp",
        f"{PORT + 4}:80"])
    before = ruleset()
    plan = plan_of(other, second)
    with pytest.raises(ConflictError) as refused:
        refuse_conflicts({"local": plan})
    container = f"of container '{second}' clashes with host port"
    assert refused.value.lines() == [
        f"host local: published port 127.0.0.1:{PORT}:80/tcp {container} 0.0.0.0:{PORT}/tcp, "
        f"which netplan topology '{topology}' publishes; nothing was changed (hint: use another "
        f"host port or host address, or take the port out of topology '{topology}' first)",
        f"host local: published port {PORT + 1}:53/udp {container} 127.0.0.1:{PORT + 1}/udp, "
        f"which netplan topology '{topology}' publishes; nothing was changed (hint: use another "
        f"host port or host address, or take the port out of topology '{topology}' first)",
        f"host local: published port {PORT + 2}:80/tcp {container} 127.0.0.1:{PORT + 2}/tcp, "
        "which a process of the host listens on; nothing was changed (hint: use another host "
        f"port or host address, or stop the process that `ss -lntp 'sport = :{PORT + 2}'` shows)",
        f"host local: published port {PORT + 3}:53/udp {container} 0.0.0.0:{PORT + 3}/udp, "
        "which a process of the host listens on; nothing was changed (hint: use another host "
        f"port or host address, or stop the process that `ss -lnup 'sport = :{PORT + 3}'` shows)",
    ]
    assert ruleset() == before
    assert nft_table_name(second) not in tables()
    assert observe(second).resources == {}
    assert plan_of(first, topology).empty


def test_its_own_ports_stay_the_topologys_whoever_listens_there_since(
    topology: str, second: str
) -> None:
    first = topology_of(topology, "10.213.3.0/24", [f"{PORT + 5}:80"])
    applied(first)
    applied(topology_of(second, "10.213.4.0/24", [f"{PORT + 6}:80"]))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as late:
        late.bind(("0.0.0.0", PORT + 5))
        late.listen()
        assert f"0.0.0.0:{PORT + 5}/tcp" in listened()
        assert PortInUse("tcp", PORT + 5, "0.0.0.0") in taken(topology)
        assert plan_of(first, topology).empty
    assert dnat_ports(nft_table_name(topology)) == {f"{PORT + 5}/tcp"}
