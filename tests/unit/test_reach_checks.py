"""`checks:`: parsing of `from`/`to`, cross-file problems, how a container target resolves,
and the probes the controller sends."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

import pytest
from pydantic import ValidationError

from netplan.compile import assign_addresses
from netplan.reachability.resolve import by_host, plan_checks
from netplan.topology.checks import check_topology
from netplan.topology.model import Topology
from netplan.topology.reach import Source, Target, parse_source, parse_target
from netplan.topology.reach_checks import target_network

BASE: dict[str, Any] = {
    "name": "t",
    "hosts": ["a", "b"],
    "networks": {
        "front": {"subnet": "10.1.0.0/24", "host": "a"},
        "back": {"subnet": "10.2.0.0/24", "host": "a"},
        "far": {"subnet": "10.3.0.0/24", "host": "b"},
        "ov": {"driver": "overlay", "subnet": "10.88.0.0/24"},
    },
    "containers": {
        "web": {"host": "a", "networks": ["front", "ov"]},
        "db": {"host": "a", "networks": ["back"]},
        "side": {"network_mode": "container:web"},
        "remote": {"host": "b", "networks": ["far", "ov"]},
        "lonely": {"host": "b", "networks": ["far"]},
    },
}


def topology(*checks: dict[str, Any]) -> Topology:
    return Topology.model_validate({**BASE, "checks": list(checks)})


@pytest.mark.parametrize(("text", "parsed"), [
    ("web", Target("icmp", "web", None, None)),
    ("10.0.0.2", Target("icmp", None, IPv4Address("10.0.0.2"), None)),
    ("tcp://db:5432", Target("tcp", "db", None, 5432)),
    ("udp://10.0.0.2:53", Target("udp", None, IPv4Address("10.0.0.2"), 53)),
    ("tcp://db.internal:80/", Target("tcp", "db.internal", None, 80)),
])
def test_targets_parse(text: str, parsed: Target) -> None:
    assert parse_target(text) == parsed


@pytest.mark.parametrize(("text", "message"), [
    ("tcp://db", "needs a port"),
    ("http://db:80", "scheme 'http' is not tcp or udp"),
    ("tcp://db:0", "not a number from 1 to 65535"),
    ("tcp://db:http", "not a number from 1 to 65535"),
    ("10.0.0.300", "not an IPv4 address"),
    ("tcp://:80", "neither a container name nor an IPv4 address"),
    ("tcp//db:80", "neither a container name nor an IPv4 address"),
])
def test_bad_targets_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_target(text)


def test_sources_are_containers_or_prefixed_hosts() -> None:
    assert parse_source("web") == Source("web", is_host=False)
    assert parse_source("host:a") == Source("a", is_host=True)
    with pytest.raises(ValueError, match="container name or 'host:<host name>'"):
        parse_source("host:")


def test_defaults_and_bounds() -> None:
    [check] = topology({"from": "web", "to": "db"}).checks
    assert (check.expect, check.retries, check.timeout, check.label) == (
        "reachable", 2, 1.0, "web -> db")
    with pytest.raises(ValidationError):
        topology({"from": "web", "to": "db", "retries": -1})
    with pytest.raises(ValidationError):
        topology({"from": "web", "to": "db", "expect": "maybe"})


@pytest.mark.parametrize("name", [
    "ok\n::error file=x::injected",  # a second line: a GitHub workflow command
    "bell\x07", "escape \x1b[31mred", "zero\u200bwidth", "line\u2028separator",
    "   ", "x" * 201,
])  # fmt: skip
def test_a_check_name_is_one_printable_line(name: str) -> None:
    with pytest.raises(ValidationError, match="check name"):
        topology({"name": name, "from": "web", "to": "db"})
    [check] = topology({"name": "web reaches db: é ✓", "from": "web", "to": "db"}).checks
    assert check.label == "web reaches db: é ✓"


PROBLEMS = [
    ({"from": "wbe", "to": "db"}, "checks[0].from", "unknown container 'wbe'", "'web'?"),
    ({"from": "a", "to": "db"}, "checks[0].from", "unknown container 'a'", "write 'host:a'"),
    ({"from": "host:c", "to": "db"}, "checks[0].from", "unknown host 'c'", ""),
    ({"from": "web", "to": "tcp://dbb:80"}, "checks[0].to", "unknown container 'dbb'", "'db'"),
    ({"from": "web", "to": "lonely"}, "checks[0].to", "no address 'web' can be probed at",
     "write the address"),
    ({"from": "host:a", "to": "remote"}, "checks[0].to", "on no bridge network of host 'a'", ""),
]


@pytest.mark.parametrize(("check", "path", "message", "hint"), PROBLEMS,
                         ids=[p[2][:30] for p in PROBLEMS])
def test_cross_file_problems(check: dict[str, Any], path: str, message: str, hint: str) -> None:
    [problem] = check_topology(topology(check))
    assert (problem.path, message in problem.message, hint in problem.hint) == (path, True, True)


@pytest.mark.parametrize(("source", "target", "network"), [
    ("web", "remote", "ov"),  # shared: the overlay
    ("web", "db", "back"),  # not shared: db's bridge on web's host, through the host
    ("side", "db", "back"),  # container:web is in web's namespace
    ("host:a", "web", "front"),  # the host holds an address on front, none on the overlay
    ("host:b", "remote", "far"),
    ("remote", "web", "ov"),
])
def test_a_container_target_resolves_to_one_network(
    source: str, target: str, network: str
) -> None:
    assert target_network(topology(), parse_source(source), target) == network


def test_checks_become_probes_grouped_by_the_host_they_start_on() -> None:
    top = topology(
        {"from": "side", "to": "tcp://remote:80", "timeout": 0.5},
        {"from": "host:b", "to": "lonely", "expect": "unreachable", "retries": 0},
        {"from": "remote", "to": "udp://10.88.0.1:53"},
    )
    assert check_topology(top) == []
    planned = plan_checks(top, assign_addresses(top, {}))
    assert [p.probe_json() for p in planned] == [
        {"id": 0, "netns": "web", "protocol": "tcp", "address": "10.88.0.2", "port": 80,
         "timeout": 0.5, "retries": 2},
        {"id": 1, "netns": None, "protocol": "icmp", "address": "10.3.0.3", "port": None,
         "timeout": 1.0, "retries": 0},
        {"id": 2, "netns": "remote", "protocol": "udp", "address": "10.88.0.1", "port": 53,
         "timeout": 1.0, "retries": 2},
    ]
    assert {host: [p.index for p in items] for host, items in by_host(planned).items()} == {
        "a": [0], "b": [1, 2]}
    assert planned[0].destination == "tcp://10.88.0.2:80"
