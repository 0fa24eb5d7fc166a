"""Objects netplan must never touch, made with `ip`, `bridge` and `nft` directly, several
of them looking like netplan's own: a bridge named and marked like another topology's
network, veths named like netplan's host ends, a namespace marked by another topology,
an nftables table `inet netplan_other`, a route of protocol 77 on a foreign link, FDB and
neighbour entries on a foreign VXLAN device, hosts files in /etc/netns/<foreign>/ (one
with another topology's header). `inventory` reads each of them back, one entry per
object, so that a run can prove, object by object, that none changed."""

from __future__ import annotations

import json
from typing import Any

from tests.reliability.census import LINK_TIMERS, files
from tests.reliability.place import Place

LINKS = ("br-lan", "fbr0", "veth5eed0a1", "veth5eed0a2", "fvx0")
NAMESPACES = ("fns1", "fns-other")
TABLES = (("inet", "netplan_other"), ("ip", "foreign_nat"))
ROUTE_TABLE = "100"

SCRIPT = r"""
set -e
ip link add br-lan type bridge
ip link set br-lan addrgenmode none
ip link set br-lan alias netplan:other:lan up
ip link add fbr0 type bridge
ip link set fbr0 addrgenmode none
ip link set fbr0 up
ip address add 10.97.0.1/24 dev fbr0
ip link add veth5eed0a1 type veth peer name veth5eed0a2
ip link set veth5eed0a1 addrgenmode none
ip link set veth5eed0a2 addrgenmode none
ip link set veth5eed0a1 alias netplan:other:lan:x master fbr0 up
ip link set veth5eed0a2 up
bridge fdb add 02:00:00:00:00:99 dev veth5eed0a1 master static
ip link add fvx0 type vxlan id 999 dstport 4790 local 10.97.0.1 dev fbr0
ip link set fvx0 addrgenmode none
ip link set fvx0 up
bridge fdb append 00:00:00:00:00:00 dev fvx0 dst 10.97.0.2
bridge fdb append 02:00:00:00:00:98 dev fvx0 dst 10.97.0.3
ip neigh add 10.97.0.5 lladdr 02:00:00:00:00:98 dev fvx0 nud permanent
ip route add 10.99.0.0/24 dev fbr0 proto 77
ip route add 10.98.0.0/24 via 10.97.0.2 dev fbr0 proto static
ip route add 10.96.0.0/24 dev fbr0 table 100 proto 77
ip netns add fns1
ip netns add fns-other
ip -n fns-other link set lo alias netplan:other up
ip -n fns1 link add eth0 type veth peer name eth1
ip -n fns1 address add 10.95.0.2/24 dev eth0
ip -n fns1 link set eth0 up
ip -n fns1 route add 10.94.0.0/24 dev eth0 proto 77
mkdir -p /etc/netns/fns1 /etc/netns/fns-other /etc/netns/ghost
printf '127.0.0.1 localhost\n10.95.0.2 fns1\n' > /etc/netns/fns1/hosts
header='# netplan:other -- managed by netplan, do not edit (apply rewrites it)'
printf '%s\n127.0.0.1 localhost\n' "$header" > /etc/netns/fns-other/hosts
printf '%s\n' "$header" > /etc/netns/ghost/hosts
nft -f - <<'NFT'
table inet netplan_other {
    chain forward { type filter hook forward priority 0; policy accept; iifname "br-lan" accept; }
}
table ip foreign_nat {
    chain post { type nat hook postrouting priority 100; oifname "fbr0" masquerade; }
}
NFT
"""


def make(place: Place) -> None:
    place.sh(SCRIPT)


def remove(place: Place) -> None:
    """Take away what make() made, by name."""
    links = ("fvx0", "br-lan", "fbr0", "veth5eed0a1")
    script = [*(f"ip link del {name}" for name in links),
              *(f"ip netns del {name}" for name in NAMESPACES),
              *(f"nft delete table {family} {name}" for family, name in TABLES),
              "rm -r /etc/netns/fns1 /etc/netns/fns-other /etc/netns/ghost"]
    place.sh(" && ".join(script))


def inventory(place: Place) -> dict[str, Any]:
    """Every foreign object, by a name saying what it is, with what the kernel shows of it."""
    found: dict[str, Any] = {}
    for link in place.json("ip", "-j", "-d", "link", "show"):
        if link["ifname"] in LINKS:
            link.pop("operstate", None)
            for part in LINK_TIMERS:
                info = link.get("linkinfo", {}).get(part, {})
                for key in [k for k in info if k.endswith("_timer")]:
                    del info[key]
            found[f"link {link['ifname']}"] = link
    for link in place.json("ip", "-j", "address", "show"):
        if link["ifname"] in LINKS:
            for addr in link["addr_info"]:
                found[f"address {addr['local']}/{addr['prefixlen']} dev {link['ifname']}"] = addr
    for route in place.json("ip", "-j", "route", "show", "table", "all"):
        if route.get("dev") in LINKS and route.get("protocol") != "kernel":
            found[f"route {route['dst']} dev {route['dev']} table "
                  f"{route.get('table', 'main')} proto {route.get('protocol')}"] = route
    for entry in place.json("bridge", "-j", "fdb", "show"):
        if entry.get("ifname") in LINKS and _made_by_hand(entry):
            found[f"fdb {entry['mac']} dev {entry['ifname']} dst {entry.get('dst', '-')}"] = entry
    for entry in place.json("ip", "-j", "neigh", "show", "nud", "permanent"):
        if entry.get("dev") in LINKS:
            found[f"neighbour {entry['dst']} dev {entry['dev']}"] = entry
    for name in NAMESPACES:
        found[f"netns {name}"] = {
            "links": place.json("ip", "-n", name, "-j", "-d", "link", "show"),
            "addresses": place.json("ip", "-n", name, "-j", "address", "show"),
            "routes": place.json("ip", "-n", name, "-j", "route", "show", "table", "all"),
        }
    ruleset = place.json("nft", "-j", "list", "ruleset")
    for family, name in TABLES:
        found[f"nft table {family} {name}"] = [
            entry for entry in (ruleset["nftables"] if ruleset else [])
            if any(item.get("family") == family and item.get("table", item.get("name")) == name
                   for item in entry.values() if isinstance(item, dict))
        ]
    for path, digest in files(place, "/etc/netns").items():
        if path.split("/")[3] in (*NAMESPACES, "ghost"):
            found[f"file {path}"] = digest
    return found


def _made_by_hand(entry: dict[str, Any]) -> bool:
    """An FDB entry the script made (static, or a VXLAN destination), not one the kernel
    learnt or adds for a port's own address."""
    return bool(entry.get("dst")) or (
        entry.get("state") == "static" and "master" in entry and entry["mac"].startswith("02:00")
    )


def touched(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The foreign objects that changed, appeared or went, each with what changed."""
    changed = []
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) != after.get(key):
            old = json.dumps(before.get(key), sort_keys=True)[:300]
            new = json.dumps(after.get(key), sort_keys=True)[:300]
            changed.append(f"{key}: before {old}, after {new}")
    return changed
