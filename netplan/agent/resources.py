"""Kernel resources as plain data: the one shape shared by desired and observed state.

Every resource has a `key` (its identity on a host), comparable fields, the keys it
`requires` (must exist first) and a `parent` (deleting the parent makes the kernel delete
this resource too). `ORDER` breaks ties between independent steps, so plans read in a
natural order (namespaces, links, addresses, routes). Fields listed in `MUTABLE` can be
changed in place; a change to any other field is a replace.

Standard library only: this module is shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import KW_ONLY, dataclass, field, fields
from operator import attrgetter
from typing import Any, ClassVar, TypeAlias

ROOT = ""
"""The host's own network namespace."""

MARKER = "netplan"
"""First word of every ownership marker written on kernel objects."""

ROUTE_PROTO = 77
"""rtm_protocol of routes netplan installs (unassigned in iproute2's rt_protos)."""

BRIDGE_GROUP = 0x6E70
"""The device group (IFLA_GROUP) of every bridge netplan makes, of any topology: each
topology's forward chain drops what its bridges route to a bridge of this group
(`oifgroup`), so that topologies are isolated from each other as Docker isolates all
of its networks, without any object shared between them. Fixed, so that topologies
made by different netplan runs agree; even, so that it is never a making group
(netplan.agent.links.making_group, always odd): "np", 28272 as `ip` and nft print it."""


def netns_marker(topology: str) -> str:
    """Alias of `lo` in every namespace a topology owns."""
    return f"{MARKER}:{topology}"


def bridge_marker(topology: str, network: str) -> str:
    return f"{MARKER}:{topology}:{network}"


def veth_marker(topology: str, container: str, network: str) -> str:
    """Alias of the host end of a container's veth."""
    return f"{MARKER}:{topology}:{network}:{container}"


def parse_marker(alias: str | None) -> tuple[str, ...] | None:
    """Split a marker into (topology, *details); None for anything netplan did not write."""
    if not alias or not alias.startswith(MARKER + ":"):
        return None
    return tuple(alias.split(":")[1:])


def link_key(netns: str, name: str) -> str:
    return f"link:{netns}/{name}"


class Kernel:
    """Defaults for a resource that needs nothing first, has no parent and claims only
    its own key; kinds override what differs."""

    def refusal(self, fields: list[str]) -> str:
        """Why the kernel will not change these fields (not in MUTABLE) in place, where
        the kind says so ("" else): the reason of a replace quotes it."""
        return ""

    @property
    def key(self) -> str:
        raise NotImplementedError

    def requires(self) -> tuple[str, ...]:
        return ()

    def parent(self) -> str | None:
        return None

    def claims(self) -> tuple[str, ...]:
        return (self.key,)


@dataclass(frozen=True)
class Netns(Kernel):
    """A named network namespace (`ip netns` compatible) with `lo` up and our marker."""

    KIND: ClassVar[str] = "netns"
    ORDER: ClassVar[int] = 0
    MUTABLE: ClassVar[frozenset[str]] = frozenset({"lo_up"})

    name: str
    lo_up: bool = True

    @property
    def key(self) -> str:
        return f"netns:{self.name}"

    def describe(self) -> str:
        return f"netns {self.name}"


@dataclass(frozen=True)
class Bridge(Kernel):
    """A Linux bridge in the root namespace serving one network of the topology."""

    KIND: ClassVar[str] = "bridge"
    ORDER: ClassVar[int] = 1
    MUTABLE: ClassVar[frozenset[str]] = frozenset(
        {"network", "mtu", "up", "mac", "group", "stp_state", "vlan_filtering", "ageing_time",
         "mcast_snooping"})
    """stp_state, vlan_filtering, ageing_time and mcast_snooping are its own settings (`ip
    -d link show type bridge`) that change how it forwards, each at the kernel's default
    for a new bridge, which Docker's bridge driver keeps (it makes the bridge with a name
    and a MAC only). Not compared: forward_delay, hello_time and max_age, which only STP
    reads (off here), and the multicast timers."""

    name: str
    network: str
    mtu: int | None = None
    """What compile asks for (1500 unless the network says otherwise, as Docker's bridge
    driver); None leaves the MTU to the kernel, which follows the smallest port."""
    up: bool = True
    mac: str | None = None
    """Set, the kernel keeps it (netplan.topology.names.bridge_mac); None leaves it to the
    kernel, which gives a bridge the lowest MAC of its ports."""
    group: int = BRIDGE_GROUP
    """Its device group; a bridge made before netplan set it is in 0 (`default`)."""
    stp_state: bool = False
    """The kernel's STP (IFLA_BR_STP_STATE): on, every port goes through listening and
    learning (2 x forward_delay, 30 s) before it forwards, and may be made blocking."""
    vlan_filtering: bool = False
    """On, a port forwards only the VLANs `bridge vlan` gives it (IFLA_BR_VLAN_FILTERING)."""
    ageing_time: int = 30000
    """How long a learned MAC is kept, in centiseconds as `ip -d link` shows it
    (IFLA_BR_AGEING_TIME): at 0 the bridge keeps none and floods every frame to every
    port, where each container can read it."""
    mcast_snooping: bool = True
    """Multicast goes only to ports that joined its group (IFLA_BR_MCAST_SNOOPING); off,
    it is flooded to every port."""

    @property
    def key(self) -> str:
        return link_key(ROOT, self.name)

    def describe(self) -> str:
        return f"bridge {self.name}"


FORWARDING = "forwarding"
PORT_STATES = ("disabled", "listening", "learning", FORWARDING, "blocking")
"""A bridge port's STP states (`bridge link` names them so), by their number
(BR_STATE_*, IFLA_BRPORT_STATE)."""


@dataclass(frozen=True)
class BridgePort:
    """The settings of a link as a port of its bridge (`bridge -d link`) that netplan
    compares: those a hand change of which cuts traffic through the port and whose kernel
    default is what netplan wants. Read from the link dumps the agent makes anyway
    (netplan/agent/bridge_port.py); a link on no bridge reads as these defaults, which a
    port has when it joins one."""

    PORT_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"port_state", "port_isolated", "port_flood", "port_mcast_flood", "port_bcast_flood",
         "port_learning", "port_locked", "port_neigh_suppress", "port_hairpin"}
    )

    _: KW_ONLY
    port_state: str = FORWARDING
    """Its STP state, one of PORT_STATES; anything but forwarding forwards nothing (`bridge
    link set dev PORT state 0`). Read only where the kernel forwards, the port running
    (oper-up) and its bridge up: otherwise the kernel holds it disabled itself and makes
    it forwarding once both are up (whatever it was set to), so it reads as forwarding."""
    port_isolated: bool = False
    """Isolated ports cannot reach each other (IFLA_BRPORT_ISOLATED)."""
    port_flood: bool = True
    """Unknown unicast is flooded to it (IFLA_BRPORT_UNICAST_FLOOD): off, a container
    the bridge has not learned (or forgot) receives nothing."""
    port_mcast_flood: bool = True
    """Multicast is flooded to it (IFLA_BRPORT_MCAST_FLOOD)."""
    port_bcast_flood: bool = True
    """Broadcast is flooded to it (IFLA_BRPORT_BCAST_FLOOD): off, ARP requests never reach
    it."""
    port_learning: bool = True
    """The bridge learns source MACs arriving through it (IFLA_BRPORT_LEARNING): off, what
    is sent to the container is flooded to every port (Vxlan wants it off)."""
    port_locked: bool = False
    """The bridge drops frames from MACs without an FDB entry on this port that a user
    added (IFLA_BRPORT_LOCKED, 802.1X): locked, a container reaches nothing once the MAC
    it learned ages out or is flushed."""
    port_neigh_suppress: bool = False
    """IFLA_BRPORT_NEIGH_SUPPRESS: on, the bridge answers ARP and neighbour solicitations
    for the container from the host's neighbour table where it has an entry, and does not
    flood them to it; a stale entry there then answers for the container."""
    port_hairpin: bool = False
    """Frames may go back out the port they came in (IFLA_BRPORT_MODE): off, as Docker's
    bridge driver leaves it while its userland proxy is on (its default)."""


PORT_DEFAULTS: dict[str, Any] = {name: getattr(BridgePort, name) for name in BridgePort.PORT_FIELDS}
"""Each port setting's default: what netplan wants, and the kernel gives a new port."""


@dataclass(frozen=True)
class Veth(BridgePort, Kernel):
    """A veth pair: `name` inside namespace `netns`, `peer` in the root namespace on `bridge`."""

    KIND: ClassVar[str] = "veth"
    ORDER: ClassVar[int] = 2
    MUTABLE: ClassVar[frozenset[str]] = frozenset(
        {"bridge", "container", "network", "mac", "mtu", "peer_mtu", "up"}
    ) | BridgePort.PORT_FIELDS

    netns: str
    name: str
    peer: str
    bridge: str
    container: str
    network: str
    mac: str | None = None
    """Lower-case; None leaves the kernel's random address alone."""
    mtu: int = 1500
    """The container end's MTU."""
    peer_mtu: int | None = None
    """The host end's MTU: the same as `mtu` in a desired state, None not compared (an
    end whose MTU someone changed is seen on its own)."""
    up: bool = True

    @property
    def key(self) -> str:
        return link_key(self.netns, self.name)

    def requires(self) -> tuple[str, ...]:
        return (f"netns:{self.netns}", link_key(ROOT, self.bridge))

    def parent(self) -> str | None:
        return f"netns:{self.netns}"

    def claims(self) -> tuple[str, ...]:
        return (self.key, link_key(ROOT, self.peer))

    def describe(self) -> str:
        return f"veth {self.netns}/{self.name}"


@dataclass(frozen=True)
class Address(Kernel):
    """An IP address (CIDR form, e.g. 172.17.0.2/16) on a link."""

    KIND: ClassVar[str] = "address"
    ORDER: ClassVar[int] = 3
    MUTABLE: ClassVar[frozenset[str]] = frozenset()

    netns: str
    dev: str
    cidr: str

    @property
    def key(self) -> str:
        return f"addr:{self.netns}/{self.dev}/{self.cidr}"

    def requires(self) -> tuple[str, ...]:
        return (link_key(self.netns, self.dev),)

    def parent(self) -> str | None:
        return link_key(self.netns, self.dev)

    def describe(self) -> str:
        where = f"{self.netns}/{self.dev}" if self.netns else self.dev
        return f"address {self.cidr} on {where}"


@dataclass(frozen=True)
class Route(Kernel):
    """A route in a namespace's main table; `dst` is a CIDR or "default"."""

    KIND: ClassVar[str] = "route"
    ORDER: ClassVar[int] = 4
    MUTABLE: ClassVar[frozenset[str]] = frozenset({"gateway"})

    netns: str
    dst: str
    dev: str
    gateway: str | None = None

    @property
    def key(self) -> str:
        return f"route:{self.netns}/{self.dst}"

    def requires(self) -> tuple[str, ...]:
        return (link_key(self.netns, self.dev),)

    def parent(self) -> str | None:
        return link_key(self.netns, self.dev)

    def describe(self) -> str:
        where = f"in {self.netns}" if self.netns else "on the host"
        return f"route {self.dst} {where}"


@dataclass(frozen=True)
class Vxlan(BridgePort, Kernel):
    """A VXLAN device in the root namespace: this host's tunnel end (VTEP) of an overlay,
    a port of the overlay's bridge; ours carry bridge_marker(topology, network). The
    kernel changes its local address, underlay device and learning in place
    (vxlan_changelink), and refuses a new VNI, port or proxy flag: those replace it."""

    KIND: ClassVar[str] = "vxlan"
    ORDER: ClassVar[int] = 2
    MUTABLE: ClassVar[frozenset[str]] = frozenset(
        {"network", "bridge", "mtu", "up", "port_learning", "local", "dev", "learning"}
    ) | BridgePort.PORT_FIELDS
    REFUSED: ClassVar[dict[str, str]] = {"vni": "VNI", "port": "UDP port", "proxy": "proxy flag"}
    """What vxlan_changelink refuses (-EOPNOTSUPP), by field: `Cannot change VNI`,
    `Cannot change port` (even to its value), `cannot change PROXY flag`."""

    name: str
    network: str
    vni: int
    local: str
    """The underlay IPv4 address tunnels leave from."""
    dev: str
    """The underlay interface."""
    bridge: str
    port: int = 4789
    mtu: int | None = None
    learning: bool = False
    """The device learns remote MACs' VTEPs from traffic (only when peers are not
    programmed)."""
    proxy: bool = True
    """Answer ARP from the device's neighbour entries instead of sending it to peers."""
    up: bool = True
    port_learning: bool = field(default=False, kw_only=True)
    """The bridge learns source MACs arriving through this port (IFLA_BRPORT_LEARNING).
    Off: a MAC learned from the tunnel would stay pinned to it after its container moved
    to this host, or its address went to a container here, until it aged out (300 s)."""

    @property
    def key(self) -> str:
        return link_key(ROOT, self.name)

    def requires(self) -> tuple[str, ...]:
        return (link_key(ROOT, self.bridge),) if self.bridge else ()

    def describe(self) -> str:
        return f"vxlan {self.name}"

    def refusal(self, fields: list[str]) -> str:
        named = [self.REFUSED[f] for f in fields if f in self.REFUSED]
        if not named:
            return ""
        listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
        return f"the kernel refuses to change a VXLAN device's {listed}"


@dataclass(frozen=True)
class Macvlan(Kernel):
    """A macvlan interface `name` inside namespace `netns`, on `lower` (the network's
    `parent`, a link of the root namespace). Ours because the namespace is; its own alias is
    veth_marker(topology, container, network), which says which network it serves. The
    kernel cannot move it to another parent, and netplan recreates it for a new mode."""

    KIND: ClassVar[str] = "macvlan"
    ORDER: ClassVar[int] = 2
    MUTABLE: ClassVar[frozenset[str]] = frozenset({"container", "network", "mac", "mtu", "up"})

    netns: str
    name: str
    lower: str
    """The parent interface, in the root namespace (`parent` names the owning resource)."""
    mode: str
    """bridge, vepa, private or passthru."""
    container: str
    network: str
    mac: str | None = None
    """Lower-case; None in passthru mode, where it is the parent's."""
    mtu: int | None = None
    """None follows the parent's MTU."""
    up: bool = True

    @property
    def key(self) -> str:
        return link_key(self.netns, self.name)

    def requires(self) -> tuple[str, ...]:
        return (f"netns:{self.netns}", link_key(ROOT, self.lower))

    def parent(self) -> str | None:
        return f"netns:{self.netns}"

    def describe(self) -> str:
        return f"macvlan {self.netns}/{self.name}"


@dataclass(frozen=True)
class Vlan(Kernel):
    """An 802.1Q VLAN link `name` (`dev.vlan_id`) in the root namespace that netplan made
    as the parent of macvlan networks; ours carry bridge_marker(topology, network) of
    the first network using it. An existing VLAN link that is not ours is never a Vlan."""

    KIND: ClassVar[str] = "vlan"
    ORDER: ClassVar[int] = 1
    MUTABLE: ClassVar[frozenset[str]] = frozenset({"network", "mtu", "up"})

    name: str
    network: str
    dev: str
    vlan_id: int
    mtu: int | None = None
    up: bool = True

    @property
    def key(self) -> str:
        return link_key(ROOT, self.name)

    def describe(self) -> str:
        return f"vlan {self.name}"


@dataclass(frozen=True)
class StrayLink(Kernel):
    """A root-namespace link of the topology (its marker, or its making group) that is
    none of its bridges, veths, tunnels or VLAN links: typically a veth's host end whose
    other end is in none of the topology's namespaces (the container's namespace was
    deleted with `ip netns del` while its process kept it alive, unnamed). Only ever
    observed, never desired: the plan deletes it, which takes a veth's other end too."""

    KIND: ClassVar[str] = "stray-link"
    ORDER: ClassVar[int] = 2
    MUTABLE: ClassVar[frozenset[str]] = frozenset()

    name: str
    link_kind: str
    """The link's kind (`veth`, `bridge`, ...; empty for a plain device). (Not `kind`:
    that is the resource's own in its JSON.)"""
    why: str
    """Why it is none of the topology's links, for people: where a veth's other end is."""
    network: str | None = None
    container: str | None = None
    """The network and container its marker names, if it names them."""

    @property
    def key(self) -> str:
        return link_key(ROOT, self.name)

    def describe(self) -> str:
        return f"stray {self.link_kind or 'link'} {self.name}"


FLOOD_MAC = "00:00:00:00:00:00"
"""An FDB entry for this MAC sends broadcast, multicast and unknown unicast to its VTEP
(head-end replication: one entry per remote VTEP)."""


@dataclass(frozen=True)
class Fdb(Kernel):
    """A forwarding entry on one of our VXLAN devices: frames for `mac` are tunnelled to
    the VTEP `dst`. Several entries may share the flood MAC; any other MAC has one."""

    KIND: ClassVar[str] = "fdb"
    ORDER: ClassVar[int] = 3
    MUTABLE: ClassVar[frozenset[str]] = frozenset()

    dev: str
    mac: str
    dst: str

    @property
    def key(self) -> str:
        return f"fdb:{self.dev}/{self.mac}/{self.dst}"

    def requires(self) -> tuple[str, ...]:
        return (link_key(ROOT, self.dev),)

    def parent(self) -> str | None:
        return link_key(ROOT, self.dev)

    def claims(self) -> tuple[str, ...]:
        """A unicast MAC also claims its slot: moving it to another VTEP deletes the old
        entry first."""
        return (self.key,) if self.mac == FLOOD_MAC else (self.key, f"fdb:{self.dev}/{self.mac}")

    def describe(self) -> str:
        return f"fdb {self.mac} → {self.dst} on {self.dev}"


@dataclass(frozen=True)
class BridgeFdb(Kernel):
    """A static entry of an overlay bridge's own forwarding table (`bridge fdb ... master
    static`): frames for `mac`, a remote container's, leave by the port `dev`, the
    bridge's VXLAN device, instead of flooding every port of the bridge. Ours because
    the port is; the kernel removes it with the port, or when the port leaves `bridge`."""

    KIND: ClassVar[str] = "bridge-fdb"
    ORDER: ClassVar[int] = 3
    MUTABLE: ClassVar[frozenset[str]] = frozenset()

    bridge: str
    dev: str
    mac: str

    @property
    def key(self) -> str:
        return f"bridge-fdb:{self.bridge}/{self.mac}"

    def requires(self) -> tuple[str, ...]:
        return (link_key(ROOT, self.bridge), link_key(ROOT, self.dev))

    def parent(self) -> str | None:
        return link_key(ROOT, self.dev)

    def describe(self) -> str:
        return f"bridge fdb {self.mac} → {self.dev} on {self.bridge}"


@dataclass(frozen=True)
class Neighbour(Kernel):
    """A permanent neighbour (ARP) entry on one of our VXLAN devices: the device's ARP
    proxy answers that `dst` (a remote container's address) is at `mac`."""

    KIND: ClassVar[str] = "neighbour"
    ORDER: ClassVar[int] = 3
    MUTABLE: ClassVar[frozenset[str]] = frozenset({"mac"})

    dev: str
    dst: str
    mac: str

    @property
    def key(self) -> str:
        return f"neigh:{self.dev}/{self.dst}"

    def requires(self) -> tuple[str, ...]:
        return (link_key(ROOT, self.dev),)

    def parent(self) -> str | None:
        return link_key(ROOT, self.dev)

    def describe(self) -> str:
        return f"neighbour {self.dst} on {self.dev}"


def nft_table_name(topology: str) -> str:
    """The nftables tables a topology owns are called this (in each family): the name
    is the ownership marker. Topology names (≤ 63 bytes) keep it far below nft's 255."""
    return f"{MARKER}_{topology}"


def text_of(lines: Iterable[str]) -> str:
    """`lines` as a file holds them: each ended by a newline."""
    return "".join([f"{line}\n" for line in lines])


def bytes_digest(data: bytes | memoryview) -> str:
    """The first 64 bits of SHA-256, in hex: enough to tell a changed file."""
    return hashlib.sha256(data).hexdigest()[:16]


class Lines(tuple[str, ...]):
    """Canonical text lines, shown in plans as a count and a digest that tells two
    apart (`--json` gives them whole)."""

    __slots__ = ()

    def __str__(self) -> str:
        digest = hashlib.sha256("\n".join(self).encode()).hexdigest()[:8]
        return f"{len(self)} lines #{digest}"


@dataclass(frozen=True)
class NftTable(Kernel):
    """An nftables table netplan owns, loaded whole in one transaction. `chains` and
    `rules` are canonical text (`chain: ...`), the same whether rendered by the
    controller or read back from `nft -j` by the agent."""

    KIND: ClassVar[str] = "nft-table"
    ORDER: ClassVar[int] = 5
    MUTABLE: ClassVar[frozenset[str]] = frozenset({"chains", "rules"})

    family: str
    name: str
    chains: tuple[str, ...] = ()
    """`name: type T hook H priority P; policy accept`, in the order they are listed."""
    rules: tuple[str, ...] = ()
    """`chain: rule`, chain by chain, each chain's rules in order."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "chains", Lines(self.chains))  # lists, when read from JSON
        object.__setattr__(self, "rules", Lines(self.rules))

    @property
    def key(self) -> str:
        return f"nft:{self.family}/{self.name}"

    def describe(self) -> str:
        return f"nft table {self.family} {self.name}"


IP_FORWARD = "net.ipv4.ip_forward"
"""Left on when the topology goes, as Docker leaves it: other software may rely on it."""


def route_localnet(dev: str) -> str:
    """Lets a bridge carry 127.0.0.0/8 traffic (published ports reached via localhost).
    Dots in an interface name become slashes, as sysctl(8) writes them."""
    return f"net.ipv4.conf.{dev.replace('.', '/')}.route_localnet"


@dataclass(frozen=True)
class Sysctl(Kernel):
    """A kernel setting of the host's namespace (sysctl(8) name) that the topology needs.

    `net.ipv4.ip_forward` is observed while the topology's inet table exists and is left
    as it is when it goes; a per-interface setting belongs to that (owned) link, and is
    set back to the kernel default 0 when no longer wanted."""

    KIND: ClassVar[str] = "sysctl"
    ORDER: ClassVar[int] = 6
    MUTABLE: ClassVar[frozenset[str]] = frozenset({"value"})

    name: str
    value: str

    @property
    def dev(self) -> str | None:
        """The interface of a `net.ipv4.conf.DEV.KEY` setting."""
        parts = self.name.split(".")
        if parts[:3] == ["net", "ipv4", "conf"] and len(parts) == 5:
            return parts[3].replace("/", ".")
        return None

    @property
    def key(self) -> str:
        return f"sysctl:{self.name}"

    def requires(self) -> tuple[str, ...]:
        return () if self.dev is None else (link_key(ROOT, self.dev),)

    def parent(self) -> str | None:
        return None if self.dev is None else link_key(ROOT, self.dev)

    def describe(self) -> str:
        kept = " (left as is on destroy)" if self.dev is None else ""
        return f"sysctl {self.name}{kept}"


@dataclass(frozen=True)
class HostsFile(Kernel):
    """`/etc/netns/<netns>/hosts`: the names a container resolves. `ip netns exec` (and
    `netplan exec`) bind-mount every file of /etc/netns/<netns>/ over /etc/. Ours when its
    namespace is (or, left without one, when its marker line names the topology).

    What is compared is `digest`, of the file's bytes after the marker line: N containers
    on one network have N files of N lines, so the agent reads them back as digests, and
    only the desired file (and the step that writes it) carries its `content`, as one
    string: a step goes to the agent and back to the controller without a copy per line."""

    KIND: ClassVar[str] = "hosts-file"
    ORDER: ClassVar[int] = 7
    MUTABLE: ClassVar[frozenset[str]] = frozenset({"digest"})

    netns: str
    content: str = field(default="", compare=False)
    """The file after the marker line: hosts(5) lines (`address name [alias...]`), each
    ended by a newline (text_of)."""
    digest: str = ""
    """bytes_digest() of `content`; computed from it when not given."""
    shared: bool = field(default=True, compare=False)
    """Whether the agent may make it one file with other namespaces' files of the same
    text (netplan/agent/hosts_sharing.py): not where a container's process runs, which
    holds a mount of the file's inode for as long as it runs."""

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", bytes_digest(self.content.encode()))

    @property
    def key(self) -> str:
        return f"hosts:{self.netns}"

    def requires(self) -> tuple[str, ...]:
        return (f"netns:{self.netns}",)

    def parent(self) -> str | None:
        return f"netns:{self.netns}"

    def describe(self) -> str:
        return f"hosts file /etc/netns/{self.netns}/hosts"


@dataclass(frozen=True)
class Process(Kernel):
    """A container's process, started by the agent in the container's namespaces and
    known by its record (netplan/agent/process_record.py): PID and start time, proven
    alive and inside `netns` when observed. A changed spec (argv, env, ...) is a
    replace; `running` and `restart`, `stop_timeout` change in place (a dead process is
    started again)."""

    KIND: ClassVar[str] = "process"
    ORDER: ClassVar[int] = 8
    MUTABLE: ClassVar[frozenset[str]] = frozenset({"running", "restart", "stop_timeout"})

    container: str
    netns: str
    """The network namespace it runs in: the container's, X's in `container:X` mode,
    ROOT in `host` mode."""
    argv: tuple[str, ...]
    env: tuple[str, ...] = ()
    """`NAME=value`, sorted by name."""
    workdir: str = "/"
    hostname: str = ""
    """Set in its own UTS namespace; empty keeps the host's."""
    volumes: tuple[str, ...] = ()
    """`host_path:container_path:ro|rw`, mounted in this order."""
    restart: str = "no"
    stop_timeout: int = 10
    running: bool | None = True
    """Desired True with `restart: always`, None (not compared) with `restart: no`: a
    process that ran and exited is left so, as Docker leaves it."""

    @property
    def key(self) -> str:
        return f"process:{self.container}"

    def requires(self) -> tuple[str, ...]:
        return () if self.netns == ROOT else (f"netns:{self.netns}",)

    def parent(self) -> str | None:
        """Deleting the namespace stops its processes (netns.delete), as the kernel
        removes its links."""
        return None if self.netns == ROOT else f"netns:{self.netns}"

    def describe(self) -> str:
        return f"process {self.container}"


Resource: TypeAlias = (
    Netns | Bridge | Veth | Address | Route | NftTable | Sysctl | Vxlan | Fdb | BridgeFdb
    | Neighbour | Macvlan | Vlan | StrayLink | Process | HostsFile
)

RESOURCE_TYPES: dict[str, type[Resource]] = {
    cls.KIND: cls
    for cls in (Netns, Bridge, Veth, Address, Route, NftTable, Sysctl, Vxlan, Fdb, BridgeFdb,
                Neighbour, Macvlan, Vlan, StrayLink, Process, HostsFile)
}


def comparable(resource: Resource) -> dict[str, Any]:
    """The fields that are compared between desired and observed."""
    return {name: getattr(resource, name) for name in field_names(type(resource), False)}


_FIELD_NAMES: dict[tuple[type, bool], tuple[str, ...]] = {}


def field_names(kind: type, carried: bool = False) -> tuple[str, ...]:
    """The compared fields of a resource type, or (`carried`) all of them: dataclasses'
    fields() is slow, and every step and observed resource goes through here."""
    names = _FIELD_NAMES.get((kind, carried))
    if names is None:
        names = tuple(f.name for f in fields(kind) if carried or f.compare)
        _FIELD_NAMES[(kind, carried)] = names
    return names


FieldValues = Callable[[Any], tuple[Any, ...]]
_FIELD_VALUES: dict[tuple[type, bool], FieldValues] = {}


def field_values(kind: type, carried: bool = False) -> FieldValues:
    """What reads the values of field_names(kind, carried) off a resource of `kind`, as
    one tuple in one call (attrgetter): the diff compares thousands of pairs a plan, and
    the compile cache keeps and digests thousands of resources as such tuples."""
    read = _FIELD_VALUES.get((kind, carried))
    if read is None:
        names = field_names(kind, carried)
        getter = attrgetter(*names)
        read = getter if len(names) > 1 else lambda resource: (getter(resource),)
        _FIELD_VALUES[(kind, carried)] = read
    return read


def sequence_fields(kind: type) -> frozenset[str]:
    """The fields of a resource type that hold tuples (lists in JSON)."""
    return frozenset(f.name for f in fields(kind) if str(f.type).startswith("tuple"))


Encoder: TypeAlias = Callable[[Any], dict[str, Any]]

_ENCODERS: dict[tuple[type, bool], Encoder] = {}


def to_json(resource: Resource, carried: bool = True) -> dict[str, Any]:
    """JSON-native values: tuples become lists (from_json turns them back). Without
    `carried`, only the compared fields (a hosts file without its lines)."""
    encode = _ENCODERS.get((type(resource), carried))
    if encode is None:
        encode = _ENCODERS[(type(resource), carried)] = _encoder(type(resource), carried)
    return encode(resource)


def _encoder(kind: type, carried: bool) -> Encoder:
    """to_json of one resource type, as one dict display made for its fields (as
    dataclasses makes __init__): every step, record and cache entry encodes thousands
    of resources at N=1,000, and a loop over their fields took 3/4 of it."""
    sequences = sequence_fields(kind)
    items = [f"'kind': {kind.KIND!r}"] + [  # type: ignore[attr-defined]
        f"{name!r}: _plain(r.{name})" if name in sequences else f"{name!r}: r.{name}"
        for name in field_names(kind, carried)
    ]
    namespace: dict[str, Any] = {"_plain": _plain}
    exec(f"def encode(r):\n    return {{{', '.join(items)}}}\n", namespace)
    encoder: Encoder = namespace["encode"]
    return encoder


def from_json(data: dict[str, Any]) -> Resource:
    values = {k: _frozen(v) if type(v) is list else v for k, v in data.items()}
    return RESOURCE_TYPES[values.pop("kind")](**values)


def _plain(value: Any) -> Any:
    """Strings (the lines of a hosts file or table: N² of them for N containers) are
    taken as they are, without a call each."""
    if not isinstance(value, tuple):
        return value
    return [v if type(v) is str else _plain(v) for v in value]


def _frozen(value: Any) -> Any:
    """Resources are frozen and hashable: sequences are tuples."""
    if not isinstance(value, list):
        return value
    return tuple([v if type(v) is str else _frozen(v) for v in value])
