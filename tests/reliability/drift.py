"""Drift repair: changes behind netplan's back to objects a topology owns, made with
`ip`, `bridge`, `nft`, `sysctl`, `kill` and the shell. Each change says which resource
`netplan check` must name (its key, as in check's JSON). Targets are found with those
same tools, not with netplan's observer (tests/reliability/survey.py); the shape of what
is owned is read the same way, to prove a repair put back what was there.

This module holds the first kinds (the containers' veths, addresses, routes, processes
and hosts files, a bridge's MAC, the nft table flushed, deleted or a rule deleted);
drift_overlay.py the overlay's (tunnels, their FDB and neighbour entries, the bridges'
static entries on them), drift_host.py the host's (bridges and their ports, sysctls,
more changes to the nft table). CATALOGUE has them all.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from tests.reliability import drift_host, drift_overlay
from tests.reliability.change import Change, Maker, container, end_of, eth, pick, table
from tests.reliability.place import Place, each
from tests.reliability.survey import Owned, survey


def delete_veth(owned: Owned, rng: random.Random, used: set[str]) -> Change | None:
    netns = container(owned, rng, used)
    if netns is None:
        return None
    dev = eth(owned, netns, rng)
    return Change("delete a veth", owned.place.name,
                  f"ip link del {end_of(owned, netns, dev)}", (f"link:{netns}/{dev}",))


def _address(owned: Owned, rng: random.Random, used: set[str]) -> tuple[str, str, str] | None:
    netns = container(owned, rng, used)
    if netns is None:
        return None
    found = [(netns, link["ifname"], f"{a['local']}/{a['prefixlen']}")
             for link in owned.containers[netns]["addresses"] for a in link["addr_info"]
             if a["family"] == "inet" and link["ifname"] != "lo"]
    return rng.choice(sorted(found)) if found else None


def change_address(owned: Owned, rng: random.Random, used: set[str]) -> Change | None:
    found = _address(owned, rng, used)
    if found is None:
        return None
    netns, dev, cidr = found
    local, prefix = cidr.split("/")
    octets = local.split(".")
    other = ".".join([*octets[:3], str((int(octets[3]) + 100) % 254 + 1)])
    return Change("change an address", owned.place.name,
                  f"ip -n {netns} address del {cidr} dev {dev} && "
                  f"ip -n {netns} address add {other}/{prefix} dev {dev}",
                  (f"addr:{netns}/{dev}/{cidr}",))


def delete_address(owned: Owned, rng: random.Random, used: set[str]) -> Change | None:
    found = _address(owned, rng, used)
    if found is None:
        return None
    netns, dev, cidr = found
    return Change("delete an address", owned.place.name,
                  f"ip -n {netns} address del {cidr} dev {dev}", (f"addr:{netns}/{dev}/{cidr}",))


def _routes(owned: Owned, netns: str) -> list[dict[str, Any]]:
    """The routes netplan made in a container (an overlay's containers have none)."""
    return [r for r in owned.containers[netns]["routes"] if r.get("protocol") != "kernel"]


def remove_route(owned: Owned, rng: random.Random, used: set[str]) -> Change | None:
    netns = pick([n for n in owned.containers if _routes(owned, n)], rng, used)
    if netns is None:
        return None
    routes = _routes(owned, netns)
    route = rng.choice(sorted(routes, key=lambda r: r["dst"]))
    dst = route["dst"]
    keys = (f"route:{netns}/{dst}",) + ((f"route:{netns}/0.0.0.0/0",) if dst == "default" else ())
    return Change("remove a route", owned.place.name,
                  f"ip -n {netns} route del {dst} dev {route['dev']}", keys)


def flush_table(owned: Owned, rng: random.Random, used: set[str]) -> Change | None:
    found = table(owned, rng, used)
    if found is None:
        return None
    family, name = found
    return Change("flush the nft table", owned.place.name, f"nft flush table {family} {name}",
                  (f"nft:{family}/{name}",))


def delete_table(owned: Owned, rng: random.Random, used: set[str]) -> Change | None:
    found = table(owned, rng, used)
    if found is None:
        return None
    family, name = found
    return Change("delete the nft table", owned.place.name,
                  f"nft delete table {family} {name}", (f"nft:{family}/{name}",))


def delete_rule(owned: Owned, rng: random.Random, used: set[str]) -> Change | None:
    found = table(owned, rng, used)
    if found is None:
        return None
    family, name = found
    listing = owned.place.json("nft", "-j", "-a", "list", "table", family, name)["nftables"]
    rules = [entry["rule"] for entry in listing if "rule" in entry]
    if not rules:
        return None
    rule = rng.choice(rules)
    return Change("delete an nft rule", owned.place.name,
                  f"nft delete rule {family} {name} {rule['chain']} handle {rule['handle']}",
                  (f"nft:{family}/{name}",))


def kill_process(owned: Owned, rng: random.Random, used: set[str]) -> Change | None:
    free = sorted(c for c in owned.processes if f"process:{c}" not in used)
    if not free:
        return None
    container = rng.choice(free)
    used.add(f"process:{container}")
    return Change("kill a container's process", owned.place.name,
                  f"kill -KILL {owned.processes[container]}", (f"process:{container}",))


def unbridge(owned: Owned, rng: random.Random, used: set[str]) -> Change | None:
    netns = container(owned, rng, used)
    if netns is None:
        return None
    dev = eth(owned, netns, rng)
    return Change("move an interface out of its bridge", owned.place.name,
                  f"ip link set {end_of(owned, netns, dev)} nomaster", (f"link:{netns}/{dev}",))


def link_down(owned: Owned, rng: random.Random, used: set[str]) -> Change | None:
    netns = container(owned, rng, used)
    if netns is None:
        return None
    dev = eth(owned, netns, rng)
    return Change("set a link down", owned.place.name, f"ip -n {netns} link set {dev} down",
                  (f"link:{netns}/{dev}",))


def change_mtu(owned: Owned, rng: random.Random, used: set[str]) -> Change | None:
    netns = container(owned, rng, used)
    if netns is None:
        return None
    dev = eth(owned, netns, rng)
    return Change("change an MTU", owned.place.name,
                  f"ip -n {netns} link set {dev} mtu {rng.choice((1280, 1300, 1400))}",
                  (f"link:{netns}/{dev}",))


def change_bridge_mac(owned: Owned, rng: random.Random, used: set[str]) -> Change | None:
    """Every container's gateway MAC (netplan sets it: names.bridge_mac)."""
    bridge = pick(owned.bridges, rng, used)
    if bridge is None:
        return None
    mac = f"02:00:00:00:{rng.randrange(256):02x}:{rng.randrange(256):02x}"
    return Change("change a bridge's MAC", owned.place.name,
                  f"ip link set {bridge} address {mac}", (f"link:/{bridge}",))


def edit_hosts(owned: Owned, rng: random.Random, used: set[str]) -> Change | None:
    netns = container(owned, rng, used)
    if netns is None:
        return None
    return Change("edit a hosts file", owned.place.name,
                  f"echo '10.1.2.{rng.randrange(1, 250)} intruder' >> /etc/netns/{netns}/hosts",
                  (f"hosts:{netns}",))


CATALOGUE: dict[str, Maker] = {
    "delete a veth": delete_veth,
    "change an address": change_address,
    "delete an address": delete_address,
    "remove a route": remove_route,
    "flush the nft table": flush_table,
    "delete the nft table": delete_table,
    "delete an nft rule": delete_rule,
    "kill a container's process": kill_process,
    "move an interface out of its bridge": unbridge,
    "set a link down": link_down,
    "change an MTU": change_mtu,
    "edit a hosts file": edit_hosts,
    "change a bridge's MAC": change_bridge_mac,
    **drift_overlay.KINDS,
    **drift_host.KINDS,
}


KNOWN_GAPS: dict[str, str] = {}
"""Kinds netplan does not yet detect as drift or repair, with why. Their changes are still
made and counted, each alone in its batch and put back by hand afterwards (`undo`, then an
apply), so that it cannot hide or spoil another change (a freed address would be given to
the next container that loses its own); a harness fails when one of them is detected and
repaired after all (remove it here then), and test_drift_kinds.py runs each as a strict
xfail whose reason is this text."""


def batch(places: Mapping[str, Place], topology: str, rng: random.Random,
          size: int, kinds: Sequence[str] = ()) -> list[Change]:
    """`size` changes of kinds drawn at random (each on a place drawn at random), none of
    them on the same target; a kind with nothing to change there is drawn again. With
    `kinds`, up to `size` changes of those instead, in their order, each once, at the
    first place (in an order drawn at random) with something free to change; the others
    wait for the next batch. A change of a KNOWN_GAPS kind comes alone."""
    owned = each(places, partial(survey, topology=topology))
    used: dict[str, set[str]] = {name: set() for name in places}
    if kinds:
        return _each_once(owned, rng, size, kinds, used)
    changes: list[Change] = []
    for _ in range(size * 20):
        if len(changes) == size:
            break
        name = rng.choice(sorted(places))
        kind = rng.choice(sorted(CATALOGUE))
        if kind in KNOWN_GAPS and changes:
            continue
        change = CATALOGUE[kind](owned[name], rng, used[name])
        if change is not None:
            changes.append(change)
            if kind in KNOWN_GAPS:
                break
    return changes


def _each_once(owned: Mapping[str, Owned], rng: random.Random, size: int,
               kinds: Sequence[str], used: dict[str, set[str]]) -> list[Change]:
    changes: list[Change] = []
    for kind in kinds:
        if len(changes) == size:
            break
        if kind in KNOWN_GAPS and changes:
            continue
        for name in rng.sample(sorted(owned), len(owned)):
            change = CATALOGUE[kind](owned[name], rng, used[name])
            if change is not None:
                changes.append(change)
                break
        if kind in KNOWN_GAPS and changes:
            break
    return changes
