"""What the kernel has that a topology owns, told by the markers on the objects alone."""

from __future__ import annotations

import errno
from collections.abc import Sequence
from dataclasses import replace
from functools import partial

from netplan.agent import (
    address,
    bridge,
    bridge_fdb,
    facts,
    fdb,
    firewall,
    hostsfile,
    links,
    macvlan,
    neighbour,
    netns,
    nsutil,
    ports,
    process,
    record,
    reserved,
    route,
    split,
    stray,
    sysctl,
    veth,
    vlan,
    vxlan,
)
from netplan.agent.links import Link
from netplan.agent.resources import (
    ROOT,
    ROUTE_PROTO,
    Address,
    HostsFile,
    Netns,
    Resource,
    Veth,
    Vxlan,
    link_key,
    netns_marker,
    parse_marker,
)
from netplan.agent.session import Session
from netplan.agent.state import Facts, HostState

NAMESPACES_PER_PROCESS = 100
"""Namespaces are observed in one process per this many, up to one per CPU: ~0.3 ms
each, against a few ms for a fork and its pickled answer (netplan/agent/split.py)."""
NAMESPACES_PER_PROCESS_BESIDE = 400
"""The same, when this process observes beside its parent's work (split.beside_parent():
the local agent's child while the command loads the file, ~0.1 s of one CPU): at N=500 on
this 2-core machine one process observing was 11 ms faster than two (medians of 11 runs
alternated, first check 0.270 s against 0.282), at N=1000 two were 12 ms faster (7 runs,
0.426 s against 0.438)."""
BESIDE_PER_NAMESPACE = 0.1
"""What this process does while the others look into namespaces (reading every hosts
file, the processes, the facts), in namespaces' worth per namespace: its own share of
them is that much smaller. Measured at N=500 with one child (observe 63.0 ms with 0,
59.5 with 0.1, 63.1 with 0.2, 68.1 with 0.3): the hosts files take ~9 ms here and a
namespace ~0.13 ms, but the child also pickles its answer and this process unpickles it,
and two processes at once each go ~8% slower than one alone."""


def observe(topology: str, underlay: str | None = None,
            interfaces: list[str] | None = None, paths: list[str] | None = None,
            inside: list[str] | None = None, root: bool = True,
            ports_asked: bool = False, local_ips_asked: bool = False,
            owners_asked: bool = False, hosts_asked: bool = False,
            reserved_asked: bool = False) -> HostState:
    """Owned resources in canonical form (the shape the planner's desired state has),
    plus `foreign`: every other root-namespace link and named namespace, by key, with
    a phrase saying whose it is; and the facts of the `underlay`, if one is named, and
    of the `interfaces` (macvlan parents) and host `paths` (volumes) asked about, and
    with `ports_asked`, the host ports others take (Facts.ports_in_use), and with
    `local_ips_asked`, the host's IPv4 addresses (Facts.local_ips), and with
    `owners_asked`, whose the other named namespaces are (Facts.namespace_owners), and
    with `hosts_asked`, each hosts file's text beside its digest (HostsFile.content:
    `netplan show` reads aliases from it), and with `reserved_asked`, what Docker keeps
    out of its default pools (Facts.reserved: a file has a network without `subnet:`).
    With `inside`, only
    those named namespaces are looked into; with `root` false, the root namespace's own
    objects and holders are not read, only the root-namespace ends of the links in the
    namespaces looked into (netplan/plan/scope.py), and the underlay's, interfaces',
    ports', addresses' and reserved prefixes' facts, read from the root namespace,
    cannot be asked for."""
    state = HostState()
    with Session(topology) as session:
        root_links = {link.index: link for link in links.dump(session.root)} if root else {}
        names = nsutil.list_named()
        if inside is not None:
            wanted = set(inside)
            names = [name for name in names if name in wanted]
        per_process = (NAMESPACES_PER_PROCESS_BESIDE if split.beside_parent()
                       else NAMESPACES_PER_PROCESS)  # fmt: skip
        parts = split.part_count(len(names), per_process, split.cpus())
        observe_part = partial(_observe_namespaces, topology, root_links, not root)

        def beside() -> tuple[list[tuple[str, HostsFile | bytes]], Facts]:
            files = hostsfile.read(topology, hosts_asked)
            processes, damaged = process.observe(topology)
            for started in processes:
                state.add(started)
            state.foreign.update(damaged)
            return files, _facts(session, topology, root_links, underlay, interfaces, paths,
                                 local_ips_asked)

        found, (files, state.facts) = split.beside_parts(
            names, observe_part, parts, beside, int(len(names) * BESIDE_PER_NAMESPACE))
        owners: dict[str, str] = {}
        for part in found:
            state.resources.update(part.resources)
            state.foreign.update(part.foreign)
            owners.update(part.facts.namespace_owners)
        if owners_asked:
            state.facts = replace(state.facts, namespace_owners=owners)
        owned = [r.name for r in state.resources.values() if isinstance(r, Netns)]
        ours, others = hostsfile.classify(topology, files, owned, hosts_asked)
        for hosts in ours:
            state.add(hosts)
        state.foreign.update(others)
        if root:
            _observe_root_namespace(session, root_links, state, ports_asked, inside is None,
                                    reserved_asked)
    return state


def _facts(session: Session, topology: str, root_links: dict[int, Link], underlay: str | None,
           interfaces: list[str] | None, paths: list[str] | None, local_ips: bool) -> Facts:
    """What the controller asked to know beside the state, and the record's roster and
    addresses."""
    found = Facts(roster=record.roster(topology), addresses=record.addresses(topology))
    if underlay is not None:
        found = replace(found, underlay=facts.underlay(session.root, underlay, root_links))
    if interfaces:
        found = replace(found, interfaces=facts.interfaces(interfaces, root_links),
                        vlan_support=facts.vlan_support())
    if paths:
        found = replace(found, paths=facts.paths(paths))
    if local_ips:
        found = replace(found, local_ips=facts.local_ips(session.root, root_links))
    return found


def _observe_root_namespace(session: Session, root_links: dict[int, Link],
                            state: HostState, ports_asked: bool, every_namespace: bool,
                            reserved_asked: bool = False) -> None:
    """Add the root namespace's owned objects (bridges, tunnels, VLAN parents, firewall
    tables, sysctls, addresses and routes on our links), every other root link as
    foreign, and the facts of what others hold there (addresses, VNIs; ports, if
    `ports_asked`: they take ~8 ms, /proc/net/tcp and tcp6 most of it; the prefixes
    Docker reserves, if `reserved_asked`: one more route dump); `state` already
    holds what was seen inside the namespaces. With `every_namespace` looked into, an
    owned link that is none of the topology's resources is a stray link (a veth's host
    end whose other end is in none of its namespaces: netplan/agent/stray.py), which the
    plan deletes; otherwise it may be the host end of a namespace not looked into, and
    stays foreign (netplan/plan/scope.py takes it as that namespace's)."""
    topology = session.topology
    bridges = bridge.observe(topology, list(root_links.values()))
    ours = {r.peer for r in state.resources.values() if isinstance(r, Veth)}
    ours.update(found.name for found in bridges)
    tunnels, in_use = vxlan.observe(session, root_links)
    ours.update(found.name for found in tunnels)
    parents = vlan.observe(session, root_links)
    ours.update(found.name for found in parents)
    present = firewall.tables()
    tables = firewall.observe(topology, present)
    addresses, prefixes = _root_addresses(session, root_links, ours)
    for found in [*bridges, *addresses, *_routes(session, root_links, ours), *tables,
                  *sysctl.observe(tables, bridges), *_peers(session, root_links, tunnels),
                  *parents]:
        state.add(found)
    unclaimed = [link for link in root_links.values() if link.name not in ours]
    strays = stray.observe(topology, unclaimed) if every_namespace else []
    for found in strays:
        state.add(found)
    stray_names = {found.name for found in strays}
    for link in unclaimed:
        if link.name not in stray_names:
            state.foreign[link_key(ROOT, link.name)] = _whose(topology, link)
    taken = ports.in_use(topology, present) if ports_asked else ()
    names = {index: link.name for index, link in root_links.items()}
    kept = reserved.observe(session.root, names, ours) if reserved_asked else None
    state.facts = replace(state.facts, prefixes=prefixes, vnis_in_use=in_use,
                          ports_in_use=taken, reserved=kept)


def _root_addresses(session: Session, root_links: dict[int, Link],
                    ours: set[str]) -> tuple[list[Address], dict[str, str]]:
    """From one dump of the root namespace's addresses: those on our bridges, and the
    IPv4 addresses of the links that are not ours, with each one's link (Facts.prefixes)."""
    names = {index: link.name for index, link in root_links.items()}
    bridges = {link.name for link in root_links.values()
               if link.name in ours and link.kind == "bridge"}  # fmt: skip
    addresses, prefixes = [], {}
    for found in address.observe(session.root, ROOT, names):
        if found.dev in bridges:
            addresses.append(found)
        elif found.dev not in ours and ":" not in found.cidr:
            prefixes[found.cidr] = found.dev
    return addresses, prefixes


def _observe_namespaces(topology: str, root_links: dict[int, Link], read_ends: bool,
                        names: Sequence[str]) -> HostState:
    """The named namespaces: what each owned one holds, and whose the others are (as a
    phrase in `foreign`, and as the topology their marker names in
    Facts.namespace_owners). With a session of its own: a part observed in a forked
    child (netplan/agent/split.py) must not share its parent's netlink sockets."""
    part = HostState()
    owners: dict[str, str] = {}
    with Session(topology) as session:
        for name in names:
            other = _observe_netns(session, name, root_links, part, read_ends)
            if other is not None:
                phrase, owners[name] = other
                part.foreign[Netns(name).key] = phrase
    part.facts = replace(part.facts, namespace_owners=owners)
    return part


def _observe_netns(session: Session, name: str, root_links: dict[int, Link],
                   state: HostState, read_ends: bool = False) -> tuple[str, str] | None:
    """Add an owned namespace and what is inside it; else say whose it is: a phrase,
    and the topology its marker names ('' for none). With `read_ends`, the
    root-namespace links it needs are read into `root_links` first."""
    try:
        sock = session.sock(name)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOENT):
            raise
        if nsutil.stale_marker(name) == netns_marker(session.topology):
            return None  # begun by this topology and never mounted: made again by apply
        return "is not a network namespace", ""  # a stale file, or deleted meanwhile
    ns_links = links.dump(sock)
    owner, found = netns.observe(name, ns_links)
    if owner != session.topology:
        session.forget(name)
        return _owned_by(owner), owner or ""
    if read_ends:
        _read_root_ends(session, name, ns_links, root_links)
    names = {link.index: link.name for link in ns_links}
    inside: list[Resource] = [
        found,
        *veth.observe(session, name, ns_links, root_links),
        *macvlan.observe(session, name, ns_links, root_links),
        *address.observe(sock, name, names),
        *route.observe(sock, name, names),
    ]
    for resource in inside:
        state.add(resource)
    session.forget(name)
    return None


def _read_root_ends(session: Session, name: str, ns_links: list[Link],
                    root_links: dict[int, Link]) -> None:
    """Add to `root_links` the root-namespace links that the namespace's links name (a
    veth's host end, a macvlan's parent) and the bridges those are ports of."""
    root_id = veth.root_nsid(session, name)
    if root_id is None:
        return
    ends = [link.peer_index for link in ns_links if link.peer_netnsid == root_id]
    for index in ends:
        end = _root_link(session, index, root_links)
        if end is not None and end.master:
            _root_link(session, end.master, root_links)


def _root_link(session: Session, index: int, root_links: dict[int, Link]) -> Link | None:
    if index not in root_links:
        found = links.find(session.root, index)
        if found is None:
            return None
        root_links[index] = found
    return root_links[index]


def _routes(session: Session, root_links: dict[int, Link], ours: set[str]) -> list[Resource]:
    """Routes through our links: ROUTE_PROTO is shared by every topology, so a
    root-namespace route is ours when its link is."""
    names = {index: link.name for index, link in root_links.items() if link.name in ours}
    return list(route.observe(session.root, ROOT, names, ROUTE_PROTO))


def _peers(session: Session, root_links: dict[int, Link],
           tunnels: list[Vxlan]) -> list[Resource]:
    """The tunnels with their FDB (their own and their bridges') and neighbour entries:
    ours, because the device is."""
    by_name = {t.name: t for t in tunnels}
    by_index = {index: by_name[link.name] for index, link in root_links.items()
                if link.name in by_name}
    devices = {index: tunnel.name for index, tunnel in by_index.items()}
    return [*tunnels, *fdb.observe(session.root, devices),
            *bridge_fdb.observe(session.root, by_index),
            *neighbour.observe(session.root, devices)]


def _owned_by(owner: str | None) -> str:
    if owner is None:
        return "is not managed by netplan"
    return f"belongs to netplan topology '{owner}'"


def _whose(topology: str, link: Link) -> str:
    marker = parse_marker(link.alias)
    if marker and marker[0] == topology:
        return ("carries this topology's marker but is not one of its bridges, veths, "
                "tunnels or VLAN links")
    return _owned_by(marker[0] if marker else None)

