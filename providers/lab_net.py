"""The lab's underlay: a bridge in this network namespace, like VirtualBox's host-only network.

`labbr0` 192.168.56.1/24, and per host a veth `lab-<host>` on it whose peer `ul0` is
created directly inside the host's network namespace. The bridge carries the alias
`netplan-lab:<lab directory>`: only the bridge of the same lab is ever used or removed.
"""

from __future__ import annotations

import json
import subprocess
import time
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

from netplan.errors import NetplanError

BRIDGE = "labbr0"
MARKER = "netplan-lab"
GATEWAY = IPv4Interface("192.168.56.1/24")
SUBNET: IPv4Network = GATEWAY.network
FIRST_HOST = 11
"""hostA is 192.168.56.11, hostB .12, … as in the Vagrantfile."""
UNDERLAY = "ul0"
"""The underlay interface's name inside every lab host."""
FORWARD_HINT = Path("/proc/sys/net/bridge/bridge-nf-call-iptables")


class LabError(NetplanError):
    """The lab could not be made or removed; one line with the cause and a hint."""


def ip(*args: str) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def host_address(index: int) -> IPv4Address:
    return SUBNET.network_address + FIRST_HOST + index


def ensure_bridge(lab: Path) -> None:
    """Make the underlay bridge, or check that the one there is this lab's."""
    if bridge_exists(lab):
        return
    for link in json.loads(ip("-j", "address", "show")):
        for address in link.get("addr_info", []):
            if address.get("family") == "inet" and IPv4Address(address["local"]) in SUBNET:
                raise LabError(
                    f"{SUBNET} is already used on {link['ifname']} ({address['local']}): "
                    f"the lab needs it for its underlay (hint: remove it, or run the lab "
                    f"inside a network namespace: tests/sandbox.sh)"
                )
    ip("link", "add", BRIDGE, "type", "bridge")
    ip("link", "set", BRIDGE, "alias", f"{MARKER}:{lab}")
    ip("address", "add", str(GATEWAY), "dev", BRIDGE)
    ip("link", "set", BRIDGE, "up")


def bridge_exists(lab: Path) -> bool:
    """Whether the bridge of the lab in directory `lab` is there; a `labbr0` that is not
    this lab's (another lab's, or not a lab's) is an error."""
    result = subprocess.run(
        ["ip", "-j", "link", "show", "dev", BRIDGE], capture_output=True, text=True
    )
    if result.returncode != 0:
        return False
    (link,) = json.loads(result.stdout)
    owner = str(link.get("ifalias", ""))
    if owner == f"{MARKER}:{lab}":
        return True
    if owner.startswith(f"{MARKER}:"):
        other = owner.removeprefix(f"{MARKER}:")
        raise LabError(
            f"{BRIDGE} belongs to the lab in {other}; nothing was changed "
            f"(hint: use that lab, or stop it: netplan lab down --dir {other})"
        )
    raise LabError(
        f"{BRIDGE} exists and is not a lab's (its alias is not {MARKER}:<directory>); "
        f"nothing was changed (hint: remove it yourself if it is left over)"
    )


def attach(host: str, pid: int, address: str) -> None:
    """The host's underlay link: `ul0` inside its namespace, `lab-<host>` on the bridge.
    `ul0` gets a MAC made from its address, the same each time the host starts, so what
    other hosts' and this machine's neighbour caches hold stays right across a restart."""
    outside = f"lab-{host}"
    ip("link", "add", outside, "type", "veth", "peer", "name", UNDERLAY,
       "address", underlay_mac(address), "netns", f"/proc/{pid}/ns/net")  # fmt: skip
    ip("link", "set", outside, "master", BRIDGE, "up")


def underlay_mac(address: str) -> str:
    """02:6c:61:62 ("lab", locally administered) and the address's last two bytes."""
    third, fourth = IPv4Address(address).packed[2:]
    return f"02:6c:61:62:{third:02x}:{fourth:02x}"


def wait_detached(host: str, timeout: float = 10.0) -> None:
    """Until the host's veth is gone: the kernel removes it with the host's network namespace,
    shortly after the host's last process has exited."""
    deadline = time.monotonic() + timeout
    while link_exists(f"lab-{host}"):
        if time.monotonic() > deadline:
            raise LabError(f"lab-{host} is still there {timeout:.0f} s after its host stopped")
        time.sleep(0.005)


def link_exists(name: str) -> bool:
    """Asked over netlink: /sys/class/net may show another network namespace's links."""
    return subprocess.run(["ip", "link", "show", "dev", name], capture_output=True).returncode == 0


def remove_bridge(lab: Path) -> None:
    if bridge_exists(lab):
        ip("link", "delete", BRIDGE)


def forwarding_note() -> str | None:
    """With bridge netfilter on, underlay traffic crosses this machine's FORWARD chain."""
    try:
        enabled = FORWARD_HINT.read_text().strip() == "1"
    except OSError:
        return None
    if not enabled:
        return None
    return (
        f"traffic between lab hosts crosses this machine's FORWARD chain "
        f"(bridge-nf-call-iptables=1); if its policy is DROP (Docker), allow it: "
        f"iptables -I FORWARD -i {BRIDGE} -o {BRIDGE} -j ACCEPT"
    )
