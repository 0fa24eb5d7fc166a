"""links.dump reads 9 of a link's ~40 attributes, at the offsets of the last link it
walked with a list as long (rtnl.Picker): it must find what decoding every attribute
finds, and what `ip -j -d link` shows, for links of every kind and length of name and
marker, in the root namespace and in containers, the first dump as a second one."""

from __future__ import annotations

from typing import Any

from netplan.agent import links, rtnl
from netplan.agent.links import Link
from netplan.agent.nlmsg import RTM_GETLINK
from netplan.agent.resources import ROOT
from netplan.agent.session import Session
from tests.kernel.kernel_helpers import container, create, ip, network, plan, sh

EVERY_ATTRIBUTE = rtnl.dump(RTM_GETLINK, links.message(IFLA_EXT_MASK=links.RTEXT_FILTER_SKIP_STATS))
"""The same dump as links.dump's, without its Picker."""


def decoded(found: list[Link]) -> list[tuple[Link, bytes, bytes]]:
    """Each link with the raw settings its equality leaves out."""
    return [(link, link.port_data, link.kind_data) for link in found]


def shown(netns: str) -> list[tuple[Any, ...]]:
    """What `ip -j -d link` shows of the fields links.dump reads."""
    return [(entry["ifindex"], entry["ifname"], entry["mtu"], entry.get("address", ""),
             entry.get("ifalias"), entry.get("linkinfo", {}).get("info_kind", ""),
             entry.get("link_netnsid")) for entry in ip("-d", "link", "show", netns=netns)]


def fields(found: list[Link]) -> list[tuple[Any, ...]]:
    return [(link.index, link.name, link.mtu, link.mac, link.alias, link.kind,
             link.peer_netnsid) for link in found]


def test_a_dump_finds_what_every_attribute_says(topology: str) -> None:
    wanted = [*network(), *container("ld0", 2), *container("ldlonger12", 3)]
    create(topology, *wanted)
    sh("ip -n ld0 link add brx0 type bridge && ip -n ld0 link set brx0 alias 'a longer alias' "
       "&& ip -n ld0 link add vx0 mtu 1400 type veth peer name vx0peer")
    with Session(topology) as session:
        for netns in (ROOT, "ld0", "ldlonger12"):
            sock = session.sock(netns)
            every = [Link.decode(reply) for reply in sock.dump(EVERY_ATTRIBUTE)]
            assert decoded(links.dump(sock)) == decoded(every)
            assert decoded(links.dump(sock)) == decoded(every)  # at the offsets remembered
            assert fields(links.dump(sock)) == shown("" if netns == ROOT else netns)
    sh("ip -n ld0 link del vx0 && ip -n ld0 link del brx0")  # not the topology's: apply would
    assert plan(topology, *wanted).empty
