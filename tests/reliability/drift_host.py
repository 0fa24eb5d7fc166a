"""Drift of the host's side, as an operator makes it with `ip`, `bridge`, `sysctl` and
`nft`: a bridge deleted or set down, its STP turned on, its ageing to 0 or its multicast
snooping off, a bridge port disabled (`state 0`: it forwards nothing), locked or set
hairpin, IP forwarding or a bridge's route_localnet turned off, and inside the nft
table a rule, chain or set added, a chain's policy turned to drop, the table made
dormant (kept, evaluating nothing).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from tests.reliability.change import Made, Maker, maker, pick, table
from tests.reliability.survey import ROUTE_LOCALNET, Owned

HARMLESS_RULE = "tcp dport 9 drop"
"""A rule netplan never writes, dropping only the discard port."""
OUTBOUND_HOOKS = ("postrouting", "forward", "output")
"""Chains whose policy may turn to drop without cutting the lab's SSH (no new inbound
connection is judged there)."""


def _bridge(owned: Owned, rng: random.Random, used: set[str]) -> str | None:
    return pick(owned.bridges, rng, used)


def _localnet_bridge(owned: Owned, rng: random.Random, used: set[str]) -> str | None:
    """A bridge whose route_localnet is on (one with published ports)."""
    on = [b for b in owned.bridges
          if (owned.place.read(ROUTE_LOCALNET.format(b)) or "").strip() == "1"]
    return pick(on, rng, used)


def _on_bridge(command: str) -> Callable[[Owned, str, random.Random], Made]:
    def made(owned: Owned, bridge: str, rng: random.Random) -> Made:
        return command.format(bridge=bridge), (f"link:/{bridge}",)

    return made


def _localnet_off(owned: Owned, bridge: str, rng: random.Random) -> Made:
    name = f"net.ipv4.conf.{bridge}.route_localnet"
    return f"sysctl -w {name}=0", (f"sysctl:{name}",)


Port = tuple[str, str]
"""A bridge port (a container's host end, or a tunnel) and the key of its resource."""


def _port(owned: Owned, rng: random.Random, used: set[str]) -> Port | None:
    """A container's port or a tunnel, whose bridge no other change of the batch touches
    (nor the container or tunnel)."""
    keys = {end: f"link:{netns}/{inside}" for end, (netns, inside) in owned.host_ends.items()}
    keys.update({tunnel: f"link:/{tunnel}" for tunnel in owned.tunnels})
    owners = {end: netns for end, (netns, _) in owned.host_ends.items()}
    free = sorted(port for port, bridge in owned.ports.items() if port in keys
                  and owners.get(port, port) not in used and bridge not in used)
    if not free:
        return None
    port = rng.choice(free)
    used.update((owners.get(port, port), owned.ports[port]))
    return port, keys[port]


def _disable(owned: Owned, port: Port, rng: random.Random) -> Made:
    """It forwards nothing."""
    return f"bridge link set dev {port[0]} state 0", (port[1],)


def _port_set(flags: str) -> Callable[[Owned, Port, random.Random], Made]:
    """`bridge link set dev PORT flags`: a setting every port netplan makes has off."""
    def made(owned: Owned, port: Port, rng: random.Random) -> Made:
        return f"bridge link set dev {port[0]} {flags}", (port[1],)

    return made


def _with_table(owned: Owned, rng: random.Random, used: set[str]) -> tuple[str, str] | None:
    """The inet table, whose existence ip_forward is observed with: no other change to
    it in the same batch."""
    if ("inet", f"netplan_{owned.topology}") not in owned.tables:
        return None
    return table(owned, rng, used)


def _forwarding_off(owned: Owned, found: tuple[str, str], rng: random.Random) -> Made:
    return "sysctl -w net.ipv4.ip_forward=0", ("sysctl:net.ipv4.ip_forward",)


def _base_chains(owned: Owned, family: str, name: str, hooks: tuple[str, ...]) -> list[str]:
    listing = owned.place.json("nft", "-j", "list", "table", family, name)["nftables"]
    return sorted(entry["chain"]["name"] for entry in listing if "chain" in entry
                  and "hook" in entry["chain"] and (not hooks or entry["chain"]["hook"] in hooks))


Where = tuple[str, str, str]
"""Where in the topology's nft tables: family, table, base chain ("" for the table)."""


def _in_table(hooks: tuple[str, ...] | None,
              ) -> Callable[[Owned, random.Random, set[str]], Where | None]:
    """A chooser of one of the topology's tables and, with `hooks`, one of its base chains
    on one of them (any, if empty); None if it has no such chain."""
    def choose(owned: Owned, rng: random.Random, used: set[str]) -> Where | None:
        found = table(owned, rng, used)
        if found is None:
            return None
        if hooks is None:
            return (*found, "")
        chains = _base_chains(owned, *found, hooks)
        return (*found, rng.choice(chains)) if chains else None

    return choose


def _nft(command: str) -> Callable[[Owned, Where, random.Random], Made]:
    """`command` with {family}, {name} and {chain}."""
    def made(owned: Owned, where: Where, rng: random.Random) -> Made:
        family, name, chain = where
        return command.format(family=family, name=name, chain=chain), (f"nft:{family}/{name}",)

    return made


KINDS: dict[str, Maker] = {
    "delete a bridge": maker("delete a bridge", _bridge, _on_bridge("ip link del {bridge}")),
    "set a bridge down": maker("set a bridge down", _bridge,
                               _on_bridge("ip link set {bridge} down")),
    "disable a bridge port": maker("disable a bridge port", _port, _disable),
    "lock a bridge port": maker("lock a bridge port", _port, _port_set("locked on")),
    "set a bridge port hairpin": maker("set a bridge port hairpin", _port,
                                       _port_set("hairpin on")),
    "turn STP on on a bridge": maker("turn STP on on a bridge", _bridge,
                                     _on_bridge("ip link set {bridge} type bridge stp_state 1")),
    "make a bridge keep no MACs": maker(
        "make a bridge keep no MACs", _bridge,
        _on_bridge("ip link set {bridge} type bridge ageing_time 0")),
    "turn a bridge's multicast snooping off": maker(
        "turn a bridge's multicast snooping off", _bridge,
        _on_bridge("ip link set {bridge} type bridge mcast_snooping 0")),
    "turn IP forwarding off": maker("turn IP forwarding off", _with_table, _forwarding_off),
    "turn a bridge's route_localnet off": maker(
        "turn a bridge's route_localnet off", _localnet_bridge, _localnet_off),
    **{kind: maker(kind, _in_table(hooks), _nft(command)) for kind, command, hooks in (
        ("add an nft rule", f"nft add rule {{family}} {{name}} {{chain}} {HARMLESS_RULE}", ()),
        ("add an nft chain", "nft add chain {family} {name} drifted", None),
        ("add a set to the nft table",
         "nft add set {family} {name} drifted '{{ type ipv4_addr; }}'", None),
        ("change an nft chain's policy",
         "nft chain {family} {name} {chain} '{{ policy drop; }}'", OUTBOUND_HOOKS),
        ("make the nft table dormant",
         "nft add table {family} {name} '{{ flags dormant; }}'", None),
    )},
}
