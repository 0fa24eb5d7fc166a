"""verify's judgement, from its observation, of whether the containers a check starts in
or aims at are the topology's (netplan/reachability/ownership.py): observed state in,
the reason a check is refused out."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address

import pytest

from netplan.agent.resources import Netns
from netplan.agent.state import Facts, HostState
from netplan.reachability.ownership import not_the_topologys, refusals
from netplan.reachability.resolve import plan_checks
from netplan.topology.model import Topology

TOPOLOGY = Topology.model_validate({
    "name": "t",
    "hosts": ["a", "b"],
    "networks": {"front": {"subnet": "10.1.0.0/24", "host": "a"},
                 "ov": {"driver": "overlay", "subnet": "10.88.0.0/24"}},
    "containers": {
        "web": {"host": "a", "networks": ["front", "ov"]},
        "side": {"network_mode": "container:web"},
        "mon": {"host": "a", "network_mode": "host"},
        "remote": {"host": "b", "networks": ["ov"]},
    },
    "checks": [
        {"from": "host:a", "to": "web"},
        {"from": "web", "to": "remote"},
        {"from": "mon", "to": "10.1.0.1"},
        {"from": "host:a", "to": "10.1.0.1"},
    ],
})
FILE = "t.yaml"


def state(*owned: str, owners: dict[str, str] | None = None,
          roster: tuple[str, ...] = ("a", "b")) -> HostState:
    found = HostState(facts=Facts(roster=roster, namespace_owners=owners or {}))
    for name in owned:
        found.add(Netns(name))
    return found


APPLIED = {"a": state("web"), "b": state("remote")}
NOT_APPLIED = "topology 't' is not applied on host a (hint: netplan apply t.yaml)"
OTHERS = ("namespace web belongs to netplan topology 'other', not to 't' (hint: use the "
          "file of topology 'other', or destroy that topology and apply 't')")
BY_HAND = ("namespace web was not made by netplan (its lo carries no topology's marker) "
           "(hint: it was made by hand (ip netns add?): remove it or rename the container, "
           "then apply topology 't')")
MISSING = ("namespace web does not exist (/run/netns/web): the container is not applied "
           "(hint: apply topology 't' first)")


@pytest.mark.parametrize(("container", "observed", "reason"), [
    ("web", APPLIED, None),
    ("side", APPLIED, None),  # container:web: web's namespace
    ("mon", APPLIED, None),  # host mode: the roster names its host
    ("remote", APPLIED, None),
    ("web", {"a": state(owners={"web": "other"})}, OTHERS),
    ("side", {"a": state(owners={"web": "other"})}, OTHERS),
    ("web", {"a": state(owners={"web": ""})}, BY_HAND),
    ("web", {"a": state()}, MISSING),
    ("mon", {"a": state("web", roster=())}, NOT_APPLIED),
    ("mon", {"a": state("web", roster=("b",))}, NOT_APPLIED),
    ("web", {"b": state("remote")}, None),  # host a not observed: its failure says why
], ids=["owned", "shared", "host-mode-applied", "other-host", "other-topology",
        "shared-other-topology", "by-hand", "missing", "host-mode-no-record",
        "host-mode-roster-without-host", "host-not-observed"])
def test_a_container_is_the_topologys_as_observed(
    container: str, observed: dict[str, HostState], reason: str | None
) -> None:
    assert not_the_topologys(TOPOLOGY, FILE, container, observed) == reason


ADDRESSES = {("web", "front"): IPv4Address("10.1.0.2"), ("web", "ov"): IPv4Address("10.88.0.2"),
             ("remote", "ov"): IPv4Address("10.88.0.3")}


@pytest.mark.parametrize(("observed", "refused"), [
    (APPLIED, {}),
    ({"a": state(owners={"web": "other"}), "b": state("remote")}, {0: OTHERS, 1: OTHERS}),
    ({"a": state("web"), "b": state(owners={"remote": "other"})},
     {1: OTHERS.replace("namespace web", "namespace remote")}),
    ({"a": state("web", roster=()), "b": state("remote")}, {2: NOT_APPLIED}),
], ids=["applied", "target-and-source-of-another", "target-on-another-host", "host-mode"])
def test_only_checks_involving_a_container_not_the_topologys_are_refused(
    observed: dict[str, HostState], refused: dict[int, str]
) -> None:
    assert refusals(TOPOLOGY, FILE, plan_checks(TOPOLOGY, ADDRESSES), observed) == refused


def test_namespace_owners_travel_in_the_facts_json() -> None:
    facts = replace(Facts(), namespace_owners={"web": "other", "db": ""})
    assert Facts.from_json(facts.to_json()) == facts
    assert "namespace_owners" not in Facts().to_json()
