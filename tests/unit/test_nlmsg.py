"""The agent's hand-packed netlink requests are byte for byte what pyroute2 encodes for
the same request: pyroute2 is the reference codec these layouts are checked against."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from pyroute2.netlink.nfnetlink import nfgen_msg
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.ndmsg import ndmsg
from pyroute2.netlink.rtnl.nsidmsg import nsidmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from netplan.agent import nlmsg
from netplan.agent.links import message as link_message
from netplan.agent.nlmsg import Message


def reference(msg: Any, header: dict[str, int], attrs: list[list[Any]]) -> bytes:
    """pyroute2's encoding of a message, without the 16-byte netlink header."""
    for key, value in header.items():
        msg[key] = value
    msg["attrs"] = attrs
    msg.encode()
    return bytes(msg.data[16:])


VETH_PEER = [["IFLA_IFNAME", "eth0"], ["IFLA_NET_NS_FD", 7], ["IFLA_MTU", 1450],
             ["IFLA_ADDRESS", "02:42:ac:11:00:02"]]
INET6_OFF = {"attrs": [["AF_INET6", {"attrs": [["IFLA_INET6_ADDR_GEN_MODE", 1]]}]]}

CASES: list[tuple[str, Message, Any, dict[str, int], list[list[Any]]]] = [
    (
        "veth with its peer inside a namespace",
        link_message(IFLA_IFNAME="vethabc", IFLA_MTU=1450, IFLA_MASTER=4,
                     IFLA_LINKINFO=("veth", [("VETH_INFO_PEER",
                                              [tuple(a) for a in VETH_PEER])])),
        ifinfmsg(), {},
        [["IFLA_IFNAME", "vethabc"], ["IFLA_MTU", 1450], ["IFLA_MASTER", 4],
         ["IFLA_LINKINFO", {"attrs": [["IFLA_INFO_KIND", "veth"], ["IFLA_INFO_DATA", {
             "attrs": [["VETH_INFO_PEER", {"attrs": VETH_PEER}]]}]]}]],
    ),
    (
        "link up with marker and no IPv6 link-local, out of the making group",
        link_message(flags=1, change=1, IFLA_IFNAME="br-x", IFLA_IFALIAS="netplan:t:x",
                     IFLA_AF_SPEC=[("AF_INET6", [("IFLA_INET6_ADDR_GEN_MODE", 1)])],
                     IFLA_GROUP=0),
        ifinfmsg(), {"flags": 1, "change": 1},
        [["IFLA_IFNAME", "br-x"], ["IFLA_IFALIAS", "netplan:t:x"], ["IFLA_AF_SPEC", INET6_OFF],
         ["IFLA_GROUP", 0]],
    ),
    (
        "bridge made in its topology's making group",
        link_message(IFLA_IFNAME="br-x", IFLA_LINKINFO=("bridge", None), IFLA_GROUP=2131317363),
        ifinfmsg(), {},
        [["IFLA_IFNAME", "br-x"], ["IFLA_LINKINFO", {"attrs": [["IFLA_INFO_KIND", "bridge"]]}],
         ["IFLA_GROUP", 2131317363]],
    ),
    (
        "vxlan device",
        link_message(IFLA_IFNAME="vx-o", IFLA_LINKINFO=("vxlan", [
            ("IFLA_VXLAN_ID", 42), ("IFLA_VXLAN_LOCAL", "192.168.56.11"),
            ("IFLA_VXLAN_LINK", 3), ("IFLA_VXLAN_PORT", 4789),
            ("IFLA_VXLAN_LEARNING", 0), ("IFLA_VXLAN_PROXY", 1)])),
        ifinfmsg(), {},
        [["IFLA_IFNAME", "vx-o"], ["IFLA_LINKINFO", {"attrs": [
            ["IFLA_INFO_KIND", "vxlan"], ["IFLA_INFO_DATA", {"attrs": [
                ["IFLA_VXLAN_ID", 42], ["IFLA_VXLAN_LOCAL", "192.168.56.11"],
                ["IFLA_VXLAN_LINK", 3], ["IFLA_VXLAN_PORT", 4789],
                ["IFLA_VXLAN_LEARNING", 0], ["IFLA_VXLAN_PROXY", 1]]}]]}]],
    ),
    (
        "macvlan inside a namespace",
        link_message(IFLA_IFNAME="eth0", IFLA_LINK=5, IFLA_NET_NS_FD=9,
                     IFLA_LINKINFO=("macvlan", [("IFLA_MACVLAN_MODE", 4)])),
        ifinfmsg(), {},
        [["IFLA_IFNAME", "eth0"], ["IFLA_LINK", 5], ["IFLA_NET_NS_FD", 9],
         ["IFLA_LINKINFO", {"attrs": [["IFLA_INFO_KIND", "macvlan"], ["IFLA_INFO_DATA", {
             "attrs": [["IFLA_MACVLAN_MODE", 4]]}]]}]],
    ),
    (
        "802.1Q link",
        link_message(IFLA_IFNAME="eth1.10", IFLA_LINK=2,
                     IFLA_LINKINFO=("vlan", [("IFLA_VLAN_ID", 10)])),
        ifinfmsg(), {},
        [["IFLA_IFNAME", "eth1.10"], ["IFLA_LINK", 2], ["IFLA_LINKINFO", {"attrs": [
            ["IFLA_INFO_KIND", "vlan"], ["IFLA_INFO_DATA", {"attrs": [["IFLA_VLAN_ID", 10]]}]]}]],
    ),
    (
        "a bridge port that learns nothing, its learned entries flushed",
        link_message(IFLA_IFNAME="vx-o", IFLA_LINKINFO=("bridge_slave", [
            ("IFLA_BRPORT_LEARNING", 0), ("IFLA_BRPORT_FLUSH", True)])),
        ifinfmsg(), {},
        [["IFLA_IFNAME", "vx-o"], ["IFLA_LINKINFO", {"attrs": [
            ["IFLA_INFO_SLAVE_KIND", "bridge"], ["IFLA_INFO_SLAVE_DATA", {"attrs": [
                ["IFLA_BRPORT_LEARNING", 0], ["IFLA_BRPORT_FLUSH", None]]}]]}]],
    ),
    (
        "a bridge port forwarding again, not isolated, flooding",
        link_message(IFLA_IFNAME="veth1", IFLA_LINKINFO=("bridge_slave", [
            ("IFLA_BRPORT_ISOLATED", 0), ("IFLA_BRPORT_UNICAST_FLOOD", 1),
            ("IFLA_BRPORT_MCAST_FLOOD", 1), ("IFLA_BRPORT_BCAST_FLOOD", 1),
            ("IFLA_BRPORT_STATE", 3)])),
        ifinfmsg(), {},
        [["IFLA_IFNAME", "veth1"], ["IFLA_LINKINFO", {"attrs": [
            ["IFLA_INFO_SLAVE_KIND", "bridge"], ["IFLA_INFO_SLAVE_DATA", {"attrs": [
                ["IFLA_BRPORT_ISOLATED", 0], ["IFLA_BRPORT_UNICAST_FLOOD", 1],
                ["IFLA_BRPORT_MCAST_FLOOD", 1], ["IFLA_BRPORT_BCAST_FLOOD", 1],
                ["IFLA_BRPORT_STATE", 3]]}]]}]],
    ),
    (
        "link dump of one kind without counters",
        link_message(IFLA_EXT_MASK=8, IFLA_LINKINFO=("vxlan", None)),
        ifinfmsg(), {},
        [["IFLA_EXT_MASK", 8], ["IFLA_LINKINFO", {"attrs": [["IFLA_INFO_KIND", "vxlan"]]}]],
    ),
    (
        "IPv4 address",
        nlmsg.ifaddrmsg(socket.AF_INET, 24, 12, [("IFA_ADDRESS", "10.0.0.2"),
                                                 ("IFA_LOCAL", "10.0.0.2"),
                                                 ("IFA_BROADCAST", "10.0.0.255")]),
        ifaddrmsg(), {"family": socket.AF_INET, "prefixlen": 24, "index": 12},
        [["IFA_ADDRESS", "10.0.0.2"], ["IFA_LOCAL", "10.0.0.2"],
         ["IFA_BROADCAST", "10.0.0.255"]],
    ),
    (
        "IPv6 address without DAD",
        nlmsg.ifaddrmsg(socket.AF_INET6, 64, 3, [("IFA_ADDRESS", "fd00::2"),
                                                 ("IFA_FLAGS", nlmsg.IFA_F_NODAD)]),
        ifaddrmsg(), {"family": socket.AF_INET6, "prefixlen": 64, "index": 3},
        [["IFA_ADDRESS", "fd00::2"], ["IFA_FLAGS", 2]],
    ),
    (
        "default route via a gateway",
        nlmsg.rtmsg(socket.AF_INET, 0, 254, 77, 0, 1, [("RTA_OIF", 2),
                                                       ("RTA_GATEWAY", "172.17.0.1")]),
        rtmsg(), {"family": socket.AF_INET, "table": 254, "proto": 77, "scope": 0, "type": 1},
        [["RTA_OIF", 2], ["RTA_GATEWAY", "172.17.0.1"]],
    ),
    (
        "route to a subnet",
        nlmsg.rtmsg(socket.AF_INET, 24, 254, 77, 253, 1, [("RTA_OIF", 2),
                                                         ("RTA_DST", "10.1.0.0")]),
        rtmsg(), {"family": socket.AF_INET, "dst_len": 24, "table": 254, "proto": 77,
                  "scope": 253, "type": 1},
        [["RTA_OIF", 2], ["RTA_DST", "10.1.0.0"]],
    ),
    (
        "permanent FDB entry of a VXLAN device",
        nlmsg.ndmsg(socket.AF_BRIDGE, 6, 0x80, 0x02, [("NDA_LLADDR", "02:42:0a:58:00:02"),
                                                      ("NDA_DST", "192.168.56.12")]),
        ndmsg(), {"family": socket.AF_BRIDGE, "ifindex": 6, "state": 0x80, "flags": 0x02},
        [["NDA_LLADDR", "02:42:0a:58:00:02"], ["NDA_DST", "192.168.56.12"]],
    ),
    (
        "static entry of a bridge for one of its ports",
        nlmsg.ndmsg(socket.AF_BRIDGE, 6, 0x40, 0x04, [("NDA_LLADDR", "02:42:0a:58:00:02")]),
        ndmsg(), {"family": socket.AF_BRIDGE, "ifindex": 6, "state": 0x40, "flags": 0x04},
        [["NDA_LLADDR", "02:42:0a:58:00:02"]],
    ),
    (
        "neighbour dump of one device",
        nlmsg.ndmsg(socket.AF_INET, 0, attrs=[("NDA_IFINDEX", 6)]),
        ndmsg(), {"family": socket.AF_INET},
        [["NDA_IFINDEX", 6]],
    ),
    (
        "namespace id of a namespace file",
        nlmsg.nsidmsg([("NETNSA_FD", 5)]),
        nsidmsg(), {},
        [["NETNSA_FD", 5]],
    ),
    (
        "nftables table dump",
        nlmsg.nfgenmsg(),
        nfgen_msg(), {},
        [],
    ),
]


@pytest.mark.parametrize(("ours", "theirs", "header", "attrs"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_packed_like_pyroute2(ours: Message, theirs: Any, header: dict[str, int],
                              attrs: list[list[Any]]) -> None:
    assert ours.body() == reference(theirs, header, attrs)


def test_none_values_are_left_out() -> None:
    assert link_message(IFLA_IFNAME="x", IFLA_MTU=None).body() == link_message(
        IFLA_IFNAME="x").body()


def test_an_attribute_not_in_the_table_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        link_message(IFLA_NOT_A_THING=1).body()
