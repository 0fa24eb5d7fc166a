"""Docker-compatible, sticky allocation, table-driven."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest

from netplan.ipam import (
    AddressInUseError,
    ExhaustedError,
    InUse,
    Pool,
    Request,
    allocate,
    dynamic_capacity,
    mac_for,
    make_pool,
)

A = IPv4Address


@pytest.mark.parametrize(
    ("subnet", "ip_range", "gateway", "expected_gateway", "expected"),
    [
        pytest.param(
            "172.17.0.0/16",
            None,
            None,
            "172.17.0.1",
            ["172.17.0.2", "172.17.0.3"],
            id="default-bridge",
        ),
        pytest.param(
            "172.21.0.0/16",
            "172.21.240.0/20",
            None,
            "172.21.240.0",
            ["172.21.240.1", "172.21.240.2"],
            id="ip-range-docker-example",
        ),
        pytest.param(
            "10.1.0.0/24",
            None,
            "10.1.0.254",
            "10.1.0.254",
            ["10.1.0.1", "10.1.0.2"],
            id="explicit-gateway-last",
        ),
        pytest.param(
            "10.1.0.0/24",
            "10.1.0.128/25",
            "10.1.0.1",
            "10.1.0.1",
            ["10.1.0.128", "10.1.0.129"],
            id="gateway-outside-range",
        ),
        pytest.param("10.2.0.0/30", None, None, "10.2.0.1", ["10.2.0.2"], id="smallest-subnet"),
    ],
)
def test_docker_order(
    subnet: str,
    ip_range: str | None,
    gateway: str | None,
    expected_gateway: str,
    expected: list[str],
) -> None:
    pool = make_pool(
        IPv4Network(subnet), ip_range and IPv4Network(ip_range), gateway and A(gateway)
    )
    assert pool.gateway == A(expected_gateway)
    names = [f"c{i}" for i in range(len(expected))]
    got = allocate(pool, [Request(n) for n in names], {})
    assert [str(got[n]) for n in names] == expected


def test_static_addresses_are_reserved_before_dynamic_ones() -> None:
    pool = make_pool(IPv4Network("10.0.0.0/24"), None, None)
    got = allocate(pool, [Request("a"), Request("b", A("10.0.0.2"))], {})
    assert got == {"a": A("10.0.0.3"), "b": A("10.0.0.2")}


def test_running_containers_keep_their_address_when_the_file_grows_and_reorders() -> None:
    pool = make_pool(IPv4Network("10.0.0.0/24"), None, None)
    first = allocate(pool, [Request("a"), Request("b")], {})
    grown = allocate(pool, [Request("new"), Request("b"), Request("a")], first)
    assert grown["a"] == first["a"] and grown["b"] == first["b"]
    assert grown["new"] == A("10.0.0.4")


def test_a_current_address_outside_the_subnet_is_not_kept() -> None:
    pool = make_pool(IPv4Network("10.0.0.0/24"), None, None)
    assert allocate(pool, [Request("a")], {"a": A("192.0.2.7")}) == {"a": A("10.0.0.2")}


POOL = make_pool(IPv4Network("10.0.0.0/24"), None, None)


@pytest.mark.parametrize(
    ("requests", "current", "recorded", "expected"),
    [
        pytest.param([Request("a"), Request("b", A("10.0.0.2"))], {"a": "10.0.0.2"}, {},
                     [InUse("b", A("10.0.0.2"), "a", recorded=False)],
                     id="the address a container has, without a record"),
        pytest.param([Request("a"), Request("b", A("10.0.0.2"))], {"a": "10.0.0.2"},
                     {"a": "10.0.0.2"}, [InUse("b", A("10.0.0.2"), "a")],
                     id="the address the record gives it"),
        pytest.param([Request("a"), Request("b"), Request("c", A("10.0.0.7")),
                      Request("d", A("10.0.0.9"))], {"a": "10.0.0.7", "b": "10.0.0.9"},
                     {"b": "10.0.0.9"},
                     [InUse("c", A("10.0.0.7"), "a", recorded=False),
                      InUse("d", A("10.0.0.9"), "b")], id="every one is found"),
        pytest.param([Request("a"), Request("b", A("10.0.0.2"))], {"a": "10.0.0.2"},
                     {"a": "10.0.0.5"}, {"a": "10.0.0.5", "b": "10.0.0.2"},
                     id="free: the record gives its holder another (drift put back)"),
        pytest.param([Request("a", A("10.0.0.5")), Request("b", A("10.0.0.2"))],
                     {"a": "10.0.0.2"}, {}, {"a": "10.0.0.5", "b": "10.0.0.2"},
                     id="free: its holder is given a static address too"),
        pytest.param([Request("b", A("10.0.0.2"))], {"a": "10.0.0.2"}, {},
                     {"b": "10.0.0.2"}, id="free: its holder left the network"),
        pytest.param([Request("a", A("10.0.0.2"))], {"a": "10.0.0.2"}, {},
                     {"a": "10.0.0.2"}, id="free: the address it has, now written"),
        pytest.param([Request("a"), Request("b", A("10.0.0.3"))], {"a": "10.0.0.2"}, {},
                     {"a": "10.0.0.2", "b": "10.0.0.3"}, id="free: nobody's"),
    ],
)  # fmt: skip
def test_a_static_address_another_container_keeps_is_in_use(
    requests: list[Request], current: dict[str, str], recorded: dict[str, str],
    expected: list[InUse] | dict[str, str],
) -> None:  # fmt: skip
    """Docker: "Address already in use". The holder would keep it (sticky): renumbering
    it would break whoever talks to it."""
    has = {c: A(a) for c, a in current.items()}
    record = {c: A(a) for c, a in recorded.items()}
    if isinstance(expected, list):
        with pytest.raises(AddressInUseError) as raised:
            allocate(POOL, requests, has, record)
        assert raised.value.clashes == expected
    else:
        assert {c: str(a) for c, a in allocate(POOL, requests, has, record).items()} == expected


def test_exhaustion_names_the_container() -> None:
    pool = make_pool(IPv4Network("10.0.0.0/30"), None, None)
    with pytest.raises(ExhaustedError, match="'b'"):
        allocate(pool, [Request("a"), Request("b")], {})


@pytest.mark.parametrize(
    ("subnet", "ip_range", "statics", "capacity"),
    [
        ("10.0.0.0/24", None, [], 253),
        ("10.0.0.0/24", None, ["10.0.0.9"], 252),
        ("172.21.0.0/16", "172.21.240.0/20", [], 4094),
        ("172.21.0.0/16", "172.21.240.0/20", ["172.21.0.5"], 4094),
        ("10.0.0.0/30", None, [], 1),
        ("10.0.0.0/8", None, [], 2**24 - 3),
    ],
)
def test_dynamic_capacity(
    subnet: str, ip_range: str | None, statics: list[str], capacity: int
) -> None:
    pool = make_pool(IPv4Network(subnet), ip_range and IPv4Network(ip_range), None)
    assert dynamic_capacity(pool, [A(s) for s in statics]) == capacity


@pytest.mark.parametrize(
    ("subnet", "ip_range"),
    [
        ("10.0.0.0/24", "10.0.0.0/24"),
        ("172.21.0.0/16", "172.21.240.0/20"),
        ("10.0.0.0/24", "10.0.0.128/25"),
        ("10.0.0.0/24", "10.0.0.0/25"),
        ("10.0.0.0/30", "10.0.0.0/30"),
        ("10.0.0.0/31", "10.0.0.0/31"),
        ("10.0.0.7/32", "10.0.0.7/32"),
        ("10.0.0.0/24", "10.0.0.252/30"),
        ("10.0.0.0/24", "10.0.1.0/24"),
    ],
)
def test_dynamic_addresses_are_the_usable_addresses_of_the_range(subnet: str,
                                                                ip_range: str) -> None:
    """dynamic_values works the run out from the ends; it agrees with usable() one by one."""
    pool = Pool(IPv4Network(subnet), IPv4Network(ip_range), A(0))
    every = [A(v) for v in range(int(pool.range.network_address),
                                 int(pool.range.broadcast_address) + 1)]
    assert list(pool.dynamic_addresses()) == [a for a in every if pool.usable(a)]


def test_mac_is_derived_from_the_address_like_docker() -> None:
    assert mac_for(A("172.17.0.2")) == "02:42:ac:11:00:02"
