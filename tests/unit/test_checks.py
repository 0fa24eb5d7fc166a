"""Cross-file checks on in-memory topologies: spec in, (path, message) of every problem out."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from netplan.topology.checks import CHECKS, check_topology
from netplan.topology.document import parse_document
from netplan.topology.model import BridgeNetwork, Topology
from netplan.topology.names import bridge_name

NET = {"subnet": "10.0.0.0/24"}
OVERLAY = {"driver": "overlay", "subnet": "10.88.0.0/24"}


def topology(**spec: Any) -> Topology:
    return Topology.model_validate({"name": "t", **spec})


def on(network: str, **attachment: Any) -> dict[str, Any]:
    return {"networks": {network: attachment}}


CASES = [
    pytest.param(
        {"networks": {"lo": {"subnet": "127.0.0.0/24"},
                      "mc": {**OVERLAY, "subnet": "224.0.0.0/24"},
                      "ok": {"subnet": "169.253.0.0/16"}}},
        [("networks.lo.subnet", "overlaps loopback (127.0.0.0/8)"),
         ("networks.mc.subnet", "overlaps multicast (224.0.0.0/4)")],
        id="special-subnets",
    ),
    pytest.param(
        {
            "networks": {"tiny": {"subnet": "10.0.0.0/30"}},
            "containers": {"a": {"networks": ["tiny"]}, "b": {"networks": ["tiny"]}},
        },
        [("networks.tiny.subnet", "no free addresses left: 2 containers need one")],
        id="no-free-addresses",
    ),
    pytest.param(
        {"networks": {"front": NET}, "containers": {"web": {"networks": ["frnt"]}}},
        [("containers.web.networks.frnt", "unknown network 'frnt'")],
        id="unknown-network",
    ),
    pytest.param(
        {"hosts": ["h1"], "networks": {"front": {**NET, "host": "h2"}}},
        [("networks.front.host", "unknown host 'h2'")],
        id="unknown-network-host",
    ),
    pytest.param(
        {"hosts": ["h1"], "containers": {"web": {"host": "h2"}}},
        [("containers.web.host", "unknown host 'h2'")],
        id="unknown-container-host",
    ),
    pytest.param(
        {"hosts": ["h1", "h2"], "networks": {"front": NET}, "containers": {"web": {}}},
        [("networks.front", "needs `host:`"), ("containers.web", "needs `host:`")],
        id="host-required-with-several-hosts",
    ),
    pytest.param(
        {
            "hosts": ["h1", "h2"],
            "containers": {"web": {"host": "h2"}, "side": {"network_mode": "container:web"}},
        },
        [],
        id="shared-namespace-follows-its-container-host",
    ),
    pytest.param(
        {"containers": {"side": {"network_mode": "container:wbe"}, "web": {}}},
        [("containers.side.network_mode", "unknown container 'wbe'")],
        id="unknown-shared-container",
    ),
    pytest.param(
        {
            "containers": {
                "a": {"network_mode": "container:b"},
                "b": {"network_mode": "container:a"},
                "c": {"network_mode": "container:a"},
            }
        },
        [("containers.a.network_mode", "network_mode cycle: a → b → a")],
        id="sharing-cycle",
    ),
    pytest.param(
        {"containers": {"a": {"network_mode": "container:a"}}},
        [("containers.a.network_mode", "network_mode cycle: a → a")],
        id="sharing-itself",
    ),
    pytest.param(
        {
            "networks": {"front": NET},
            "containers": {"web": {"network_mode": "none", **on("front")}},
        },
        [("containers.web.network_mode", "'none' cannot be combined with networks")],
        id="mode-with-networks",
    ),
    pytest.param(
        {
            "hosts": ["h1", "h2"],
            "networks": {"front": {**NET, "host": "h1"}},
            "containers": {"web": {"host": "h2", **on("front")}},
        },
        [("containers.web.networks.front", "network 'front' is on host 'h1'")],
        id="network-on-another-host",
    ),
    pytest.param(
        {
            "hosts": ["h1", "h2"],
            "containers": {
                "db": {"host": "h1"},
                "side": {"host": "h2", "network_mode": "container:db"},
            },
        },
        [("containers.side.network_mode", "container 'db' is on host 'h1', not on 'h2'")],
        id="shared-namespace-on-another-host",
    ),
    pytest.param(
        {"networks": {"front": {**NET, "ip_range": "10.0.1.0/25"}}},
        [("networks.front.ip_range", "not inside the subnet 10.0.0.0/24")],
        id="ip-range-outside-subnet",
    ),
    pytest.param(
        {"networks": {"front": {"ip_range": "10.0.0.0/25", "gateway": "10.0.0.1"},
                      "over": {"driver": "overlay"}, "ok": {}},
         "containers": {"web": {"networks": {"over": {"ipv4": "10.0.0.5"}, "ok": {}}}}},
        [("networks.front.ip_range", "ip_range 10.0.0.0/25 needs a subnet"),
         ("networks.front.gateway", "gateway 10.0.0.1 needs a subnet"),
         ("containers.web.networks.over.ipv4", "static ipv4 10.0.0.5 needs a subnet, and "
          "network 'over' gives none (Docker: user specified IP address is supported only")],
        id="addresses-without-subnet",
    ),
    pytest.param(
        {"networks": {"front": {**NET, "gateway": "10.0.0.255"}}},
        [("networks.front.gateway", "broadcast address of 10.0.0.0/24")],
        id="gateway-broadcast",
    ),
    pytest.param(
        {"networks": {"front": {**NET, "gateway": "10.9.0.1"}}},
        [("networks.front.gateway", "outside the subnet")],
        id="gateway-outside-subnet",
    ),
    pytest.param(
        {"networks": {"front": NET}, "containers": {"web": on("front", ipv4="10.0.5.1")}},
        [("containers.web.networks.front.ipv4", "outside the subnet 10.0.0.0/24")],
        id="static-outside-subnet",
    ),
    pytest.param(
        {
            "networks": {"front": {**NET, "ip_range": "10.0.0.128/25"}},
            "containers": {"web": on("front", ipv4="10.0.0.5")},
        },
        [],
        id="static-outside-ip-range-is-allowed",
    ),
    pytest.param(
        {"networks": {"front": NET}, "containers": {"web": on("front", ipv4="10.0.0.0")}},
        [("containers.web.networks.front.ipv4", "network address")],
        id="static-network-address",
    ),
    pytest.param(
        {"networks": {"front": NET}, "containers": {"web": on("front", ipv4="10.0.0.1")}},
        [("containers.web.networks.front.ipv4", "10.0.0.1 is the gateway")],
        id="static-default-gateway",
    ),
    pytest.param(
        {
            "networks": {"front": {**NET, "ip_range": "10.0.0.128/25"}},
            "containers": {"web": on("front", ipv4="10.0.0.128")},
        },
        [("containers.web.networks.front.ipv4", "10.0.0.128 is the gateway")],
        id="static-gateway-from-ip-range",
    ),
    pytest.param(
        {
            "networks": {"front": NET},
            "containers": {
                "a": on("front", ipv4="10.0.0.9"),
                "b": on("front", ipv4="10.0.0.9"),
            },
        },
        [("containers.b.networks.front.ipv4", "also the address of container 'a'")],
        id="static-taken",
    ),
    pytest.param(
        {
            "networks": {"front": NET, "back": {"subnet": "10.0.1.0/24"}},
            "containers": {
                "a": on("front", mac="02:00:00:00:00:01"),
                "b": on("back", mac="02:00:00:00:00:01"),
            },
        },
        [("containers.b.networks.back.mac", "also the MAC of containers.a.networks.front")],
        id="duplicate-mac",
    ),
    pytest.param(
        {"networks": {"a": NET, "b": {"subnet": "10.0.0.0/16"}}},
        [("networks.b.subnet", "overlaps 10.0.0.0/24, the subnet of network 'a'")],
        id="overlapping-subnets",
    ),
    pytest.param(
        {
            "hosts": ["h1", "h2"],
            "networks": {"a": {**NET, "host": "h1"}, "b": {**NET, "host": "h2"}},
        },
        [],
        id="same-subnet-on-other-hosts",
    ),
    pytest.param(
        {"networks": {"front": NET, "back": {"subnet": "10.0.1.0/24", "bridge": "br-front"}}},
        [("networks.back.bridge", "bridge 'br-front' is also the bridge of network 'front'")],
        id="bridge-name-taken-by-default-name",
    ),
    pytest.param(
        {
            "networks": {
                "front": {**NET, "bridge": "br0"},
                "back": {"subnet": "10.0.1.0/24", "bridge": "br0"},
            }
        },
        [("networks.back.bridge", "bridge 'br0' is also the bridge of network 'front'")],
        id="bridge-name-given-twice",
    ),
    pytest.param(
        {
            "networks": {"front": NET},
            "containers": {"web": on("front", aliases=["www", "db", "web"]), "db": on("front")},
        },
        [("containers.web.networks.front.aliases[1]", "alias 'db' is the name of another")],
        id="alias-is-a-container-name",
    ),
    pytest.param(
        {
            "networks": {"front": NET, "back": {"subnet": "10.0.1.0/24"}},
            "containers": {"web": on("front", aliases=["db"]), "db": on("back")},
        },
        [],
        id="alias-of-a-container-on-another-network",
    ),
    pytest.param(
        {
            "networks": {"front": NET},
            "containers": {
                "web": {"networks": ["front"], "publish": ["8080:80"]},
                "api": {"networks": ["front"], "publish": ["127.0.0.1:8080:80"]},
            },
        },
        [("containers.api.publish[0]", "host port 8080/tcp is already published by")],
        id="host-port-published-twice",
    ),
    pytest.param(
        {
            "networks": {"front": NET},
            "containers": {
                "web": {"networks": ["front"]},
                "side": {"network_mode": "container:web", "publish": ["80:80"]},
            },
        },
        [("containers.side.publish", "a container in network_mode 'container:web' cannot")],
        id="publish-in-a-shared-namespace",
    ),
    pytest.param(
        {
            "hosts": ["hostA", "hostB"],
            "networks": {"ov": {**OVERLAY, "hosts": ["hostA", "hostC"]}},
            "containers": {"a": {"host": "hostA", **on("ov")}, "b": {"host": "hostB", **on("ov")}},
        },
        [
            ("networks.ov.hosts[1]", "unknown host 'hostC'"),
            ("containers.b.networks.ov", "overlay 'ov' does not span host 'hostB'"),
        ],
        id="overlay-hosts",
    ),
    pytest.param(
        {
            "hosts": ["hostA", "hostB"],
            "networks": {"ov": OVERLAY, "br": {"subnet": "10.88.0.0/25", "host": "hostB"}},
            "containers": {"a": {"host": "hostA", **on("ov")}, "b": {"host": "hostB", **on("ov")}},
        },
        [("networks.br.subnet", "overlaps 10.88.0.0/24, the subnet of network 'ov' on host")],
        id="overlay-subnet-overlaps-a-bridge-on-one-of-its-hosts",
    ),
    pytest.param(
        {
            "hosts": ["hostA", "hostB"],
            "networks": {"ov": OVERLAY, "br": {"subnet": "10.88.0.0/25", "host": "hostB"}},
            "containers": {"a": {"host": "hostA", **on("ov")}},
        },
        [],
        id="overlay-subnet-free-on-hosts-it-does-not-span",
    ),
    pytest.param(
        {
            "networks": {
                "one": {**OVERLAY, "vni": 42},
                "two": {"driver": "overlay", "subnet": "10.89.0.0/24", "vni": 42},
            }
        },
        [("networks.two.vni", "VNI 42 is also the VNI of overlay 'one'")],
        id="overlay-vni-twice",
    ),
    pytest.param(
        {"networks": {"ov": OVERLAY}, "containers": {"a": on("ov", ipv4="10.88.0.1")}},
        [],
        id="overlay-without-gateway-gives-out-the-first-address",
    ),
    pytest.param(  # more macvlan cases: tests/unit/test_macvlan.py
        {
            "networks": {"lan": {"driver": "macvlan", "parent": "eth1", "mode": "passthru",
                                 "subnet": "192.168.1.0/24"}},
            "containers": {"a": on("lan"), "b": on("lan")},
        },
        [("containers.b.networks.lan", "macvlan 'lan' is in passthru mode")],
        id="macvlan-passthru-twice",
    ),
    pytest.param(
        {
            "networks": {
                "one": {"driver": "macvlan", "parent": "eth1", "subnet": "192.168.1.0/24"},
                "two": {"driver": "macvlan", "parent": "eth1", "mode": "passthru",
                        "subnet": "192.168.2.0/24"},
            }
        },
        [("networks.two.parent", "also the parent of macvlan 'one'")],
        id="macvlan-passthru-parent-shared",
    ),
    pytest.param(  # more cases: tests/unit/test_reach_checks.py
        {"containers": {"web": {}}, "checks": [{"from": "web", "to": "tcp://db:80"}]},
        [("checks[0].to", "unknown container 'db'")],
        id="reachability-check-unknown-target",
    ),
    pytest.param(  # more cases: tests/fixtures/bad/process-*.yaml
        {"containers": {"web": {"command": "sleep 1"},
                        "side": {"network_mode": "container:web", "hostname": "side"}}},
        [("containers.side.hostname", "cannot set a hostname")],
        id="process-hostname-in-container-mode",
    ),
    pytest.param(
        {"containers": {"idle": {"restart": "always"}}},
        [("containers.idle.restart", "`restart` needs a process")],
        id="process-fields-without-command",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), CASES)
def test_checks(spec: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    problems = check_topology(topology(**spec))
    assert [p.path for p in problems] == [path for path, _ in expected]
    for problem, (_, message) in zip(problems, expected, strict=True):
        assert message in problem.message


def test_every_check_has_a_case_that_trips_it() -> None:
    silent = {check.__name__ for check in CHECKS}
    for case in CASES:
        spec = case.values[0]
        assert isinstance(spec, dict)
        silent -= {check.__name__ for check in CHECKS if list(check(topology(**spec)))}
    assert not silent


def test_problems_carry_hints_where_they_help() -> None:
    [problem] = check_topology(
        topology(networks={"front": NET}, containers={"web": {"networks": ["frnt"]}})
    )
    assert problem.hint == "did you mean 'front'?"


@pytest.mark.parametrize(
    ("network", "spec", "expected"),
    [
        pytest.param("front", {}, "br-front", id="short"),
        pytest.param("twelve-chars", {}, "br-twelve-chars", id="exactly-15-bytes"),
        pytest.param(
            "thirteen-char",
            {},
            "br-" + hashlib.sha256(b"lab/thirteen-char").hexdigest()[:12],
            id="hashed-when-too-long",
        ),
        pytest.param("front", {"bridge": "docker0"}, "docker0", id="given"),
    ],
)
def test_bridge_name(network: str, spec: dict[str, Any], expected: str) -> None:
    name = bridge_name("lab", network, BridgeNetwork.model_validate({**NET, **spec}))
    assert name == expected
    assert len(name.encode()) <= 15


NAMES = st.sampled_from(["a", "b", "c", "web", "db"])
ADDRESSES = st.sampled_from(["10.0.0.0", "10.0.0.1", "10.0.0.5", "10.0.0.255", "10.0.1.5"])
SUBNETS = st.sampled_from(["10.0.0.0/24", "10.0.0.0/16", "10.0.1.0/24", "10.0.0.128/25"])
ATTACHMENTS = st.fixed_dictionaries(
    {},
    optional={
        "ipv4": ADDRESSES,
        "mac": st.sampled_from(["02:00:00:00:00:01", "02:00:00:00:00:02"]),
        "aliases": st.lists(NAMES, max_size=2),
    },
)
NETWORKS = st.fixed_dictionaries(
    {"subnet": SUBNETS},
    optional={
        "ip_range": SUBNETS,
        "gateway": ADDRESSES,
        "bridge": st.sampled_from(["br0", "br-a"]),
        "host": st.sampled_from(["h1", "h2", "h3"]),
    },
)
CONTAINERS = st.fixed_dictionaries(
    {},
    optional={
        "host": st.sampled_from(["h1", "h2", "h3"]),
        "networks": st.dictionaries(NAMES, ATTACHMENTS, max_size=3),
        "network_mode": st.sampled_from(["none", "host", "container:a", "container:web"]),
    },
)
SPECS = st.fixed_dictionaries(
    {
        "hosts": st.sampled_from([["h1"], ["h1", "h2"]]),
        "networks": st.dictionaries(NAMES, NETWORKS, max_size=3),
        "containers": st.dictionaries(NAMES, CONTAINERS, max_size=4),
    }
)


@settings(max_examples=60, deadline=None, database=None)
@given(spec=SPECS)
def test_every_problem_points_at_a_place_in_the_file(spec: dict[str, Any]) -> None:
    """Checks never crash, and each path they name was written in the file."""
    problems = check_topology(topology(**spec))
    positions = parse_document(yaml.safe_dump({"name": "t", **spec}), "t.yaml").positions
    for problem in problems:
        found = positions.find(problem.path)
        assert found is not None and found[1], problem.path
