"""Objects netplan does not own are named in `foreign`, never observed as ours, and
left exactly as they were (design principle 2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from netplan.agent.api import observe
from tests.kernel.kernel_helpers import container, create, destroy, ip, link, network, sh


@pytest.fixture
def strangers() -> Iterator[None]:
    """What a user or another tool made: an unmarked bridge, an `ip netns add`
    namespace, one marked by another topology, and a stray file in /run/netns."""
    sh("ip link add docker0 type bridge && ip netns add other && ip netns add theirs"
       " && ip -n theirs link set lo alias netplan:elsewhere && touch /run/netns/stray")
    yield
    sh("ip link del docker0; ip netns del other; ip netns del theirs; rm /run/netns/stray")


def _snapshot() -> list[object]:
    return [link("docker0"), ip("link", netns="other"), ip("link", netns="theirs")]


@pytest.mark.usefixtures("strangers")
def test_they_are_named_in_foreign_and_never_ours(topology: str) -> None:
    state = observe(topology)
    assert state.resources == {}
    assert state.foreign["link:/docker0"] == "is not managed by netplan"
    assert state.foreign["link:/lo"] == "is not managed by netplan"
    assert state.foreign["netns:other"] == "is not managed by netplan"
    assert state.foreign["netns:theirs"] == "belongs to netplan topology 'elsewhere'"
    assert state.foreign["netns:stray"] == "is not a network namespace"


@pytest.mark.usefixtures("strangers")
def test_apply_and_destroy_leave_them_untouched(topology: str) -> None:
    before = _snapshot()
    create(topology, *network(), *container("c0"))
    state = observe(topology)
    assert not {"link:/docker0", "netns:other", "netns:theirs"} & set(state.resources)
    destroy(topology)
    assert _snapshot() == before


def test_our_names_are_not_foreign_to_us(topology: str) -> None:
    create(topology, *network(), *container("c0"))
    foreign = observe(topology).foreign
    assert not {"netns:c0", "link:/nbr0", "link:/nvc0"} & set(foreign)
