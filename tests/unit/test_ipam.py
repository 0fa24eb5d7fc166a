"""Docker-compatible, sticky allocation, table-driven."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest

from netplan.ipam import ExhaustedError, Request, allocate, dynamic_capacity, mac_for, make_pool

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


def test_a_static_address_wins_over_a_current_one() -> None:
    pool = make_pool(IPv4Network("10.0.0.0/24"), None, None)
    got = allocate(pool, [Request("a"), Request("b", A("10.0.0.2"))], {"a": A("10.0.0.2")})
    assert got == {"a": A("10.0.0.3"), "b": A("10.0.0.2")}


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


def test_mac_is_derived_from_the_address_like_docker() -> None:
    assert mac_for(A("172.17.0.2")) == "02:42:ac:11:00:02"
