"""`netplan show` prints containers and networks in an order read back from the hosts
files and the firewall rules (netplan/show_order.py): the merge of partial orders, each
network's order read from hosts-file texts, and a topology shown from its compiled state
compiling to the same state again, whatever order its file has."""

from __future__ import annotations

from typing import Any

import pytest

from netplan.firewall.show import network_orders
from netplan.show_aliases import Attachment
from netplan.show_order import merged_order, network_members
from tests.unit.test_show_aliases import compiled, hosts, shown_again

MERGES: dict[str, tuple[list[list[str]], list[str], list[str]]] = {
    "no orders: by name": ([], ["zed", "amy", "mid"], ["amy", "mid", "zed"]),
    "one order kept": ([["zed", "amy"]], ["amy", "zed"], ["zed", "amy"]),
    "two networks' orders merged": (
        [["zed", "amy"], ["amy", "bob"]], ["bob", "amy", "zed"], ["zed", "amy", "bob"]),
    "unordered names go by name among the free ones": (
        [["zed", "amy"]], ["zed", "amy", "kim", "bea"], ["bea", "kim", "zed", "amy"]),
    "ties between two chains by name": (
        [["b2", "b1"], ["a2", "a1"]], ["a1", "a2", "b1", "b2"], ["a2", "a1", "b2", "b1"]),
    "an order's unknown names ignored, the rest kept": (
        [["zed", "gone", "amy"]], ["amy", "zed"], ["zed", "amy"]),
    "a name repeated in one order": ([["zed", "zed", "amy"]], ["amy", "zed"], ["zed", "amy"]),
    "contradicting orders: broken at the smallest name, every name once": (
        [["zed", "amy"], ["amy", "zed"]], ["amy", "zed"], ["amy", "zed"]),
}


@pytest.mark.parametrize("case", MERGES.values(), ids=list(MERGES))
def test_merged_order(case: tuple[list[list[str]], list[str], list[str]]) -> None:
    orders, names, expected = case
    assert merged_order(orders, names) == expected


MembersCase = tuple[dict[str, str], dict[Attachment, str], set[str], list[list[str]]]

ADDRESSES: dict[Attachment, str] = {
    ("zed", "f"): "10.1.0.2", ("amy", "f"): "10.1.0.3", ("amy", "b"): "10.2.0.2"}

MEMBERS: dict[str, MembersCase] = {
    "one network, in the file's order, the owner included": (
        {"zed": hosts("10.1.0.2 zed", "10.1.0.3 amy")}, ADDRESSES, set(), [["zed", "amy"]]),
    "network by network": (
        {"amy": hosts("10.2.0.2 amy", "10.1.0.2 zed", "10.1.0.3 amy")}, ADDRESSES, set(),
        [["amy"], ["zed", "amy"]]),
    "a hostname's own lines first: left out of its own file": (
        {"amy": hosts("10.1.0.3 amy box api", "10.1.0.2 zed www")}, ADDRESSES, {"amy"},
        [["zed"]]),
    "a hostname's place from a peer's file": (
        {"amy": hosts("10.1.0.3 amy box", "10.1.0.2 zed"),
         "zed": hosts("10.1.0.2 zed", "10.1.0.3 amy")}, ADDRESSES, {"amy"},
        [["zed"], ["zed", "amy"]]),
    "lines of networks the owner is not on are not read": (
        {"zed": hosts("10.1.0.2 zed", "10.2.0.2 amy")}, ADDRESSES, set(), [["zed"]]),
    "no hosts file (host or container: mode): nothing": ({}, ADDRESSES, set(), []),
}


@pytest.mark.parametrize("case", MEMBERS.values(), ids=list(MEMBERS))
def test_network_members(case: MembersCase) -> None:
    files, addresses, hostnames, expected = case
    assert network_members(files, addresses, hostnames) == expected


ROUND_TRIPS: dict[str, dict[str, Any]] = {
    "containers against name order on two networks, a published port": {
        "networks": {"front": {"subnet": "10.61.0.0/24"}, "back": {"subnet": "10.62.0.0/24"}},
        "containers": {
            "zed": {"networks": {"front": {}, "back": {}}, "publish": ["8080:80"]},
            "amy": {"networks": {"back": {}, "front": {}}},
            "mid": {"networks": ["front"]},
            "bob": {"networks": ["back"]},
        }},
    "networks against name order: internal, icc off, nat off": {
        "networks": {
            "zi": {"subnet": "10.71.0.0/24", "internal": True},
            "yn": {"subnet": "10.72.0.0/24", "icc": False},
            "xo": {"subnet": "10.73.0.0/24", "nat": False},
            "wi": {"subnet": "10.74.0.0/24", "internal": True, "icc": False},
            "an": {"subnet": "10.75.0.0/24", "icc": False},
        },
        "containers": {
            "c2": {"networks": ["zi", "yn", "wi", "an"]},
            "c1": {"networks": ["an", "wi", "yn", "zi", "xo"]},
        }},
    "a hostname container with a command, in the middle": {
        "networks": {"n": {"subnet": "10.81.0.0/24"}},
        "containers": {
            "zed": {"networks": ["n"]},
            "web": {"hostname": "www.example", "command": "sleep 3600",
                    "networks": {"n": {"aliases": ["api"]}}},
            "amy": {"networks": ["n"]},
        }},
}


@pytest.mark.parametrize("topology", ROUND_TRIPS.values(), ids=list(ROUND_TRIPS))
def test_shown_topology_compiles_to_the_same_state(topology: dict[str, Any]) -> None:
    state, again = shown_again(topology)
    assert again.resources == state.resources


def test_network_orders_read_each_rule_list() -> None:
    state = compiled(ROUND_TRIPS["networks against name order: internal, icc off, nat off"])
    assert network_orders(state) == [["yn", "an"], ["zi", "wi"], ["yn", "wi", "an"]]
