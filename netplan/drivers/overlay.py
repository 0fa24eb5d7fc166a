"""Docker's overlay driver, over VXLAN without multicast: on each host of the overlay a
bridge and a VXLAN device (the host's tunnel end, VTEP, on its underlay); each container
gets a veth on the bridge. Peers are programmed centrally, from what every host reports:

- per remote host, an FDB entry for the flood MAC (head-end replication of broadcast);
- with `static_peers` (the default), per remote container an FDB entry (its MAC → its
  host's VTEP) and a neighbour entry (its address → its MAC) on the VXLAN device, whose
  ARP proxy answers every ARP request on the spot: no ARP crosses the underlay, and the
  device learns nothing from traffic; and a static entry of the bridge (its MAC → the
  VXLAN port), so that its frames go to the tunnel only, not to every local port.

The bridge never learns through its VXLAN port, with or without `static_peers`: a MAC
it learned from the tunnel would stay there after its container moved to this host (or
its address, and so its MAC, went to a new container here), and frames for it would be
sent back into the tunnel until the entry aged out (300 s). Without `static_peers`,
frames for a remote container are flooded to the local ports too (the bridge knows no
remote MAC), but only the VXLAN device crosses the underlay, to the VTEP it learned.

The MTU is the smallest underlay MTU among the overlay's hosts minus 50 (the VXLAN
headers), on the VXLAN devices, bridges and the containers' veths alike. Hosts hold no
address on an overlay and containers get no default route through one (Docker routes
them through docker_gwbridge, which netplan does not make).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address
from itertools import count

from netplan.agent.resources import (
    FLOOD_MAC,
    ROOT,
    Bridge,
    BridgeFdb,
    Fdb,
    Neighbour,
    Resource,
    Vxlan,
    link_key,
)
from netplan.agent.state import HostState, Underlay
from netplan.drivers.base import Context, Link, add_veth
from netplan.errors import Problem, TopologyError
from netplan.ipam import mac_for
from netplan.topology.model import OverlayNetwork, Topology
from netplan.topology.names import bridge_mac, bridge_name, vxlan_name

VXLAN_OVERHEAD = 50
"""Outer IPv4 (20), UDP (8) and VXLAN (8) headers, and the inner Ethernet header (14)."""
MIN_MTU = 68
FIRST_VNI = 4096
"""Docker's overlay driver allocates VNIs from here up."""
UNDERLAY_HINT = "set it to the interface (or its IPv4 address) that reaches the other hosts"


@dataclass(frozen=True)
class Member:
    """A container on the overlay: where it is and how it is addressed."""

    host: str
    ip: IPv4Address
    mac: str


def compile_network(context: Context, name: str, network: OverlayNetwork) -> None:
    """The bridge, VXLAN device and peer entries on every observed host of the overlay."""
    topology = context.topology
    hosts = topology.hosts_of_network(name)
    vteps = underlays(context.observed, name, hosts)
    if not vteps:
        return
    mtu = overlay_mtu(name, network, vteps)
    vni = assign_vnis(topology, context.observed)[name]
    refuse_vni_in_use(name, network, vni, {host: context.observed[host] for host in vteps})
    bridge = bridge_name(topology.name, name, network)
    tunnel = vxlan_name(topology.name, name)
    members = list(_members(context, name))
    unreachable = [host for host in hosts if host not in vteps]
    for host, underlay in vteps.items():
        state = context.desired[host]
        state.add(Bridge(bridge, name, mtu, mac=bridge_mac(topology.name, name, host)))
        state.add(
            Vxlan(
                tunnel,
                name,
                vni,
                underlay.address,
                underlay.interface,
                bridge,
                network.port,
                mtu,
                learning=not network.static_peers,
                proxy=network.static_peers,
            )
        )
        peers = peer_entries(tunnel, bridge, host, vteps, members, network.static_peers)
        if unreachable:
            peers += kept_entries(tunnel, peers, vteps, context.observed[host])
        for entry in peers:
            state.add(entry)


def compile_attachment(context: Context, link: Link) -> None:
    """A veth on the overlay's bridge (with its MTU) and the address; no route."""
    topology = context.topology
    network = topology.networks[link.network]
    assert isinstance(network, OverlayNetwork)
    state = context.desired[context.host_of(link.container)]
    bridge = state.resources.get(link_key(ROOT, bridge_name(topology.name, link.network, network)))
    if not isinstance(bridge, Bridge) or bridge.mtu is None:
        return  # the host could not be observed: nothing is planned there
    add_veth(context, link, bridge.name, bridge.mtu)


def peer_entries(
    tunnel: str,
    bridge: str,
    host: str,
    vteps: Mapping[str, Underlay],
    members: list[Member],
    static_peers: bool,
) -> list[Resource]:
    """What `host`'s VXLAN device (a port of `bridge`) needs to reach the other hosts and
    their containers."""
    entries: list[Resource] = [
        Fdb(tunnel, FLOOD_MAC, underlay.address) for peer, underlay in vteps.items() if peer != host
    ]
    if static_peers:
        for member in members:
            if member.host == host:
                continue
            if member.host in vteps:  # else its host is unreachable: see kept_entries
                entries.append(Fdb(tunnel, member.mac, vteps[member.host].address))
            entries.append(BridgeFdb(bridge, tunnel, member.mac))
            entries.append(Neighbour(tunnel, str(member.ip), member.mac))
    return entries


def kept_entries(
    tunnel: str, wanted: list[Resource], vteps: Mapping[str, Underlay], observed: HostState
) -> list[Resource]:
    """While a host of the overlay cannot be observed, its VTEP address is unknown: the
    entries towards addresses that are no known VTEP stay as they are (unless their MAC
    has moved to a known one), so the running overlay keeps working."""
    known = {underlay.address for underlay in vteps.values()}
    macs = {entry.mac for entry in wanted if isinstance(entry, Fdb)} - {FLOOD_MAC}
    return [
        entry
        for entry in observed.resources.values()
        if isinstance(entry, Fdb)
        and entry.dev == tunnel
        and entry.dst not in known
        and entry.mac not in macs
    ]


def underlays(
    observed: Mapping[str, HostState], name: str, hosts: list[str]
) -> dict[str, Underlay]:
    """The underlay of each observed host of overlay `name`; a TopologyError naming
    every host whose underlay is not known or not usable."""
    found: dict[str, Underlay] = {}
    problems: list[Problem] = []
    for host in hosts:
        state = observed.get(host)
        if state is None:
            continue
        underlay = state.facts.underlay
        path = f"hosts.{host}.underlay"
        if underlay is None:
            problems.append(
                Problem(
                    f"overlay '{name}' needs the underlay of host '{host}', and neither the "
                    "topology nor the provider names it",
                    path,
                    UNDERLAY_HINT,
                )
            )
        elif underlay.error:
            problems.append(
                Problem(
                    f"the underlay {underlay.hint} of host '{host}' cannot "
                    f"carry overlay '{name}': {underlay.error}",
                    path,
                    UNDERLAY_HINT,
                )
            )
        else:
            found[host] = underlay
    problems += _shared_addresses(name, found)
    if problems:
        raise TopologyError(problems)
    return found


def _shared_addresses(name: str, found: Mapping[str, Underlay]) -> list[Problem]:
    """Two hosts reporting one underlay address (Vagrant's NAT eth0 is 10.0.2.15 on
    every VM) cannot tunnel to each other."""
    first: dict[str, str] = {}
    problems = []
    for host, underlay in found.items():
        other = first.setdefault(underlay.address, host)
        if other != host:
            problems.append(
                Problem(
                    f"hosts '{other}' and '{host}' both have the underlay address "
                    f"{underlay.address}: overlay '{name}' needs one address per host",
                    f"hosts.{host}.underlay",
                    "name the interface of the network the hosts share (Vagrant: eth1)",
                )
            )
    return problems


def overlay_mtu(name: str, network: OverlayNetwork, vteps: Mapping[str, Underlay]) -> int:
    """`mtu`, or the smallest underlay MTU minus the VXLAN headers; one the underlay
    cannot carry is a TopologyError."""
    host, underlay = min(vteps.items(), key=lambda item: item[1].mtu)
    limit = underlay.mtu - VXLAN_OVERHEAD
    mtu = limit if network.mtu is None else network.mtu
    if mtu > limit or mtu < MIN_MTU:
        raise TopologyError(
            [
                Problem(
                    f"overlay '{name}' needs an MTU of {mtu}, but the underlay of host '{host}' "
                    f"({underlay.interface}, MTU {underlay.mtu}) carries at most {limit}",
                    f"networks.{name}.mtu" if network.mtu is not None else f"hosts.{host}.underlay",
                    "lower `mtu:`, or leave it out"
                    if network.mtu is not None
                    else f"give the underlay an MTU of at least {MIN_MTU + VXLAN_OVERHEAD}",
                )
            ]
        )
    return mtu


def assign_vnis(topology: Topology, observed: Mapping[str, HostState]) -> dict[str, int]:
    """Every overlay's VNI: its `vni`; else the one its VXLAN devices have now (sticky);
    else the lowest free one from 4096 up, in the order of the file: free among the
    overlays, and on the overlay's port on every observed host of it, where a VXLAN
    device this topology does not own (another topology's, or no topology's) takes it."""
    overlays = {n: net for n, net in topology.networks.items() if isinstance(net, OverlayNetwork)}
    result: dict[str, int] = {}
    for name, network in overlays.items():
        if network.vni is not None:
            result[name] = network.vni
    current = {
        r.network: r.vni
        for state in observed.values()
        for r in state.resources.values()
        if isinstance(r, Vxlan)
    }
    for name in overlays:
        kept = current.get(name)
        if name not in result and kept is not None and kept not in result.values():
            result[name] = kept
    for name, network in overlays.items():
        if name not in result:
            hosts = [observed[h] for h in topology.hosts_of_network(name) if h in observed]
            taken = {vni for vni, _ in in_use(hosts, network.port)}
            result[name] = next(vni for vni in count(FIRST_VNI)
                                if vni not in result.values() and vni not in taken)
    return result


def in_use(hosts: Iterable[HostState], port: int) -> Iterator[tuple[int, str]]:
    """(VNI, device name) of every VXLAN device on `port` that the hosts have and the
    topology does not own."""
    for state in hosts:
        for name, taken in state.facts.vnis_in_use.items():
            if taken.port == port:
                yield taken.vni, name


def refuse_vni_in_use(
    name: str, network: OverlayNetwork, vni: int, hosts: Mapping[str, HostState]
) -> None:
    """A TopologyError naming each host where another VXLAN device has the overlay's VNI
    on its port: the kernel would refuse the overlay's device there (given with `vni:`,
    or kept from a host the overlay spanned before this one)."""
    problems = []
    for host, state in hosts.items():
        for taken, device in in_use([state], network.port):
            if taken != vni:
                continue
            owner = state.foreign.get(link_key(ROOT, device), "is not this topology's")
            problems.append(Problem(
                f"overlay '{name}' needs VNI {vni} on UDP port {network.port}, but VXLAN "
                f"device {device} on host '{host}' has it already and {owner}",
                f"networks.{name}.vni",
                "pick another `vni:`, one no VXLAN device on the overlay's hosts uses",
            ))
    if problems:
        raise TopologyError(problems)


def _members(context: Context, name: str) -> Iterator[Member]:
    topology = context.topology
    for container, spec in topology.containers.items():
        attachment = spec.networks.get(name)
        if attachment is not None:
            ip = context.addresses[(container, name)]
            yield Member(topology.host_of_container(container), ip, attachment.mac or mac_for(ip))
