"""What a topology owns at one place, read with `ip`, `bridge`, `nft`, /proc/sys and the
file system, never with netplan's observer: survey() finds the targets of the drift
catalogue's changes, shape() tells whether a repair put back what was there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.reliability import census
from tests.reliability.place import Place

RECORDS = "/run/netplan/topologies/{}/processes"
IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"
ROUTE_LOCALNET = "/proc/sys/net/ipv4/conf/{}/route_localnet"


@dataclass
class Owned:
    """What a topology owns at one place, as iproute2, nft and the file system show it."""

    place: Place
    topology: str
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """namespace → {"links": [...], "addresses": [...], "routes": [...]} inside it."""
    host_ends: dict[str, tuple[str, str]] = field(default_factory=dict)
    """host end of a veth → (namespace, container-side name)."""
    bridges: list[str] = field(default_factory=list)
    tunnels: list[str] = field(default_factory=list)
    ports: dict[str, str] = field(default_factory=dict)
    """A host end or tunnel that is a bridge port → its bridge."""
    tables: list[tuple[str, str]] = field(default_factory=list)
    processes: dict[str, int] = field(default_factory=dict)
    """container → PID (at the place) of its recorded process."""


def survey(place: Place, topology: str) -> Owned:
    marker = census.MARKER.format(topology)
    owned = Owned(place, topology)
    for netns in place.json("ip", "-j", "netns", "list"):
        name = netns["name"]
        links = place.json("ip", "-n", name, "-j", "link", "show")
        lo: dict[str, Any] = next((link for link in links if link["ifname"] == "lo"), {})
        if lo.get("ifalias") != marker:
            continue
        owned.containers[name] = {
            "links": links,
            "addresses": place.json("ip", "-n", name, "-j", "address", "show"),
            "routes": place.json("ip", "-n", name, "-j", "route", "show"),
        }
    for link in place.json("ip", "-j", "-d", "link", "show"):
        alias = str(link.get("ifalias", ""))
        if not alias.startswith(marker + ":"):
            continue
        kind = link.get("linkinfo", {}).get("info_kind")
        if kind == "bridge":
            owned.bridges.append(link["ifname"])
        elif kind == "vxlan":
            owned.tunnels.append(link["ifname"])
        elif kind == "veth":
            netns, inside = _peer(owned, link)
            if netns:
                owned.host_ends[link["ifname"]] = (netns, inside)
        if kind in ("vxlan", "veth") and link.get("master"):
            owned.ports[link["ifname"]] = link["master"]
    tables = place.json("nft", "-j", "list", "tables")
    for entry in tables["nftables"] if tables else []:
        table = entry.get("table")
        if table and table["name"] == f"netplan_{topology}":
            owned.tables.append((table["family"], table["name"]))
    folder = RECORDS.format(topology)
    for container in place.sh(f"ls {folder} 2>/dev/null; true").stdout.split():
        text = place.read(f"{folder}/{container}/process.json")
        if text:
            owned.processes[container] = json.loads(text)["pid"]
    return owned


def _peer(owned: Owned, link: dict[str, Any]) -> tuple[str, str]:
    """The namespace and name of a host end's peer (by the peer's ifindex in `link_netnsid`
    order: found by matching the peer's iflink back to this link's index)."""
    for netns, inside in owned.containers.items():
        for candidate in inside["links"]:
            if candidate.get("link_index") == link["ifindex"] and candidate["ifname"] != "lo":
                return netns, candidate["ifname"]
    return "", ""


def shape(place: Place, topology: str) -> list[str]:
    """What the topology owns at the place, without what a repair may rightly renew
    (interface indexes, kernel-chosen MACs, nft handles, PIDs): sorted lines. A bridge's
    MAC is netplan's choice, so it is kept."""
    owned = survey(place, topology)
    lines = [f"bridge {b}" for b in owned.bridges] + [f"vxlan {t}" for t in owned.tunnels]
    for end, (netns, peer) in owned.host_ends.items():
        lines.append(f"veth {end} → {netns}/{peer}")
    lines += _links(place, owned)
    for netns, inside in owned.containers.items():
        for link in inside["links"]:
            lines.append(f"link {netns}/{link['ifname']} mtu {link['mtu']} "
                         f"{'UP' if 'UP' in link['flags'] else 'down'}")
        for link in inside["addresses"]:
            lines += [f"address {netns}/{link['ifname']} {a['local']}/{a['prefixlen']}"
                      for a in link["addr_info"] if a["family"] == "inet"]
        lines += [f"route {netns} {json.dumps(r, sort_keys=True)}" for r in inside["routes"]]
    lines += _tables(place, owned) + _entries(place, owned) + _sysctls(place, owned)
    for path, digest in census.files(place, "/etc/netns").items():
        if path.split("/")[3] in owned.containers:
            lines.append(f"file {path} {digest}")
    lines += [f"process {c}" for c, pid in owned.processes.items()
              if pid in census.processes(place, topology)]
    return sorted(lines)


def _links(place: Place, owned: Owned) -> list[str]:
    """The root-namespace links: MTU, bridge, up or down; a port's state (forwarding)
    and learning; a tunnel's own learning and local address."""
    lines = []
    for link in place.json("ip", "-j", "-d", "link", "show"):
        name = link["ifname"]
        info = link.get("linkinfo", {})
        if name in owned.tunnels:  # the bridge learns nothing through them, nor do they
            data = info.get("info_data", {})
            lines.append(f"link {name} learning {data.get('learning')} local {data.get('local')}")
        if name in owned.ports:
            port = info.get("info_slave_data", {})
            lines.append(f"link {name} port {port.get('state')} learning {port.get('learning')}")
        if name in (*owned.bridges, *owned.tunnels, *owned.host_ends):
            lines.append(f"link {name} mtu {link['mtu']} master "
                         f"{link.get('master', '-')} {'UP' if 'UP' in link['flags'] else 'down'}")
        if name in owned.bridges:  # the only MAC netplan chooses on the host side
            lines.append(f"link {name} address {link['address']}")
    return lines


def _tables(place: Place, owned: Owned) -> list[str]:
    """Each table, its flags and what it holds (handles left out)."""
    lines = []
    for family, name in owned.tables:
        listed = place.run("nft", "list", "table", family, name).stdout
        flags = [line.strip() for line in listed.splitlines() if line.strip().startswith("flags")]
        lines.append(f"nft {family} {name} {' '.join(flags) or 'no flags'}")
        for entry in place.json("nft", "-j", "list", "table", family, name)["nftables"]:
            for item in entry.values():
                if isinstance(item, dict):
                    item.pop("handle", None)
                    item.pop("flags", None)  # nft 1.0.6 prints a dormant table's name there
            lines.append(f"nft {json.dumps(entry, sort_keys=True)}")
    return lines


def _entries(place: Place, owned: Owned) -> list[str]:
    """The tunnels' FDB entries (to a remote VTEP), the bridges' static entries on them,
    and the tunnels' permanent neighbour entries."""
    lines = []
    for entry in place.json("bridge", "-j", "fdb", "show"):
        # Ours all name a remote VTEP (`dst`); an entry without one is the device's own
        # address, which the kernel picks again when a repair recreates the device.
        if entry.get("ifname") in owned.tunnels and entry.get("dst"):
            lines.append(f"fdb {entry['mac']} {entry['ifname']} {entry['dst']} "
                         f"{entry.get('state', '-')}")
        elif entry.get("ifname") in owned.tunnels and entry.get("state") == "static":
            lines.append(f"fdb {entry['mac']} {entry['ifname']} master {entry.get('master')}")
    for entry in place.json("ip", "-j", "neigh", "show", "nud", "permanent"):
        if entry.get("dev") in owned.tunnels:
            lines.append(f"neighbour {entry['dst']} {entry['dev']} {entry.get('lladdr')}")
    return lines


def _sysctls(place: Place, owned: Owned) -> list[str]:
    """IP forwarding, and route_localnet of each bridge."""
    paths = [IP_FORWARD, *(ROUTE_LOCALNET.format(b) for b in owned.bridges)]
    return [f"sysctl {path} {(place.read(path) or '').strip()}" for path in paths]
