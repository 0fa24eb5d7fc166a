"""`netplan show` reads aliases back from hosts-file texts (netplan/show_aliases.py):
texts in, aliases per (container, network) out; and a topology shown from its compiled
state renders the same hosts files again."""

from __future__ import annotations

from typing import Any

import pytest

from netplan.agent.resources import HostsFile, text_of
from netplan.agent.state import HostState
from netplan.compile import compile_topology
from netplan.etchosts import LOCALHOST
from netplan.show import observed_topology
from netplan.show_aliases import Attachment, read_aliases
from netplan.topology.model import Topology


def hosts(*lines: str) -> str:
    return text_of([*LOCALHOST, *lines])


Case = tuple[dict[str, str], dict[Attachment, str], dict[str, str], dict[Attachment, list[str]]]

CASES: dict[str, Case] = {
    "the names after a container's own name, in the file's order": (
        {"web": hosts("10.0.0.2 web www site", "10.0.0.3 db")},
        {("web", "n"): "10.0.0.2", ("db", "n"): "10.0.0.3"}, {},
        {("web", "n"): ["www", "site"]}),
    "a container without aliases: nothing": (
        {"web": hosts("10.0.0.2 web"), "db": hosts("10.0.0.2 web")},
        {("web", "n"): "10.0.0.2"}, {}, {}),
    "per network, at the container's address there": (
        {"web": hosts("10.1.0.2 web front", "10.2.0.2 web back")},
        {("web", "a"): "10.1.0.2", ("web", "b"): "10.2.0.2"}, {},
        {("web", "a"): ["front"], ("web", "b"): ["back"]}),
    "a hostname's own first line, alone on the network: past hostname and short name": (
        {"web": hosts("10.1.0.2 web www.example www api")},
        {("web", "a"): "10.1.0.2"}, {"web": "www.example"},
        {("web", "a"): ["api"]}),
    "a hostname without a dot: written once, skipped once": (
        {"web": hosts("10.1.0.2 web box api")},
        {("web", "a"): "10.1.0.2"}, {"web": "box"},
        {("web", "a"): ["api"]}),
    "a hostname's further network: its line has no name, every name an alias": (
        {"web": hosts("10.1.0.2 web www.example www", "10.2.0.2 api v1")},
        {("web", "a"): "10.1.0.2", ("web", "b"): "10.2.0.2"}, {"web": "www.example"},
        {("web", "b"): ["api", "v1"]}),
    "a hostname's alias written once with its short name: a peer's file has it": (
        {"web": hosts("10.1.0.2 web www.example www", "10.1.0.3 db"),
         "db": hosts("10.1.0.2 web www", "10.1.0.3 db")},
        {("web", "a"): "10.1.0.2", ("db", "a"): "10.1.0.3"}, {"web": "www.example"},
        {("web", "a"): ["www"]}),
    "a peer's file on another host, for a container with no file of its own read": (
        {"b1": hosts("10.9.0.2 a1 one", "10.9.0.3 b1 two")},
        {("a1", "ov"): "10.9.0.2", ("b1", "ov"): "10.9.0.3"}, {},
        {("a1", "ov"): ["one"], ("b1", "ov"): ["two"]}),
    "comments and blank lines are not names": (
        {"web": hosts("", "# a note", "10.0.0.2 web www # the site")},
        {("web", "n"): "10.0.0.2"}, {}, {("web", "n"): ["www"]}),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_read_aliases(case: Case) -> None:
    files, addresses, hostnames, expected = case
    assert read_aliases(files, addresses, hostnames) == expected


ROUND_TRIPS: dict[str, dict[str, Any]] = {
    "aliases on two networks, a peer on each": {
        "networks": {"front": {"subnet": "10.61.0.0/24"}, "back": {"subnet": "10.62.0.0/24"}},
        "containers": {
            "web": {"networks": {"front": {"aliases": ["www", "site"]},
                                 "back": {"aliases": ["api"]}}},
            "db": {"networks": {"back": {"aliases": ["database"]}}},
            "cache": {"networks": {"front": {}}},
        }},
    "a hostname container with a command, alone on its second network": {
        "networks": {"a": {"subnet": "10.1.0.0/24"}, "b": {"subnet": "10.2.0.0/24"}},
        "containers": {
            "web": {"hostname": "www.example", "command": "sleep 3600",
                    "networks": {"a": {"aliases": ["www", "front"]}, "b": {"aliases": ["api"]}}},
            "db": {"networks": {"a": {"aliases": ["database"]}}},
        }},
    "a hostname container alone on its only network": {
        "networks": {"a": {"subnet": "10.1.0.0/24"}},
        "containers": {"web": {"hostname": "box", "command": "sleep 3600",
                               "networks": {"a": {"aliases": ["box", "api"]}}}}},
}


def compiled(topology: dict[str, Any]) -> HostState:
    """The local host's desired state for `topology` (a file's fields, without its name)."""
    named = {"version": 1, "name": "t", **topology}
    return compile_topology(Topology.model_validate(named), {"local": HostState()})["local"]


def shown_again(topology: dict[str, Any]) -> tuple[HostState, HostState]:
    """`topology` compiled, and what show prints of that state, compiled again."""
    state = compiled(topology)
    shown = observed_topology("t", {"local": state})
    return state, compiled({k: v for k, v in shown.items() if k not in ("version", "name")})


def hosts_digests(state: HostState) -> dict[str, str]:
    return {r.netns: r.digest for r in state.resources.values() if isinstance(r, HostsFile)}


@pytest.mark.parametrize("topology", ROUND_TRIPS.values(), ids=list(ROUND_TRIPS))
def test_shown_topology_renders_the_same_hosts_files(topology: dict[str, Any]) -> None:
    state, again = shown_again(topology)
    assert hosts_digests(again) == hosts_digests(state)
