"""The reference side of the apply benchmark: the same kernel objects made with `ip -batch`.

N containers on one bridge, exactly as netplan compiles `topology_yaml(n)`: namespace
`cI`, veth `eth0` inside it (peer `vethXXXXXXX` on bridge `br-bench`), 10.100.0.(2+I)/16,
MAC 02:42 + the IPv4 bytes, default route via 10.100.0.1 with netplan's route protocol,
netplan's ownership markers (interface aliases) and, like netplan, no IPv6 link-local
addresses (addrgenmode none before a link goes up), so both sides do the same kernel work.

Apply: one `ip -batch` in the root namespace, then one `ip -n cI -batch -` per namespace.
Check: one `ip -j -batch` dump (addresses with their links, routes) per namespace plus one
in the root, parsed and compared with the expected objects. Destroy: one `ip -batch` of
`netns del` and `link del br-bench` (the kernel removes each veth with its namespace).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

TOPOLOGY = "bench"
NETWORK = "bench"
BRIDGE = "br-bench"
SUBNET = IPv4Network("10.100.0.0/16")
GATEWAY = SUBNET.network_address + 1
ROUTE_PROTO = 77
"""rtm_protocol netplan gives its routes (netplan.agent.resources.ROUTE_PROTO)."""
RUN_NETNS = "/run/netns"
TIMEOUT = 900.0


@dataclass(frozen=True)
class Options:
    jobs: int = 2
    """Per-namespace `ip -n` processes run at once."""
    quiet_ipv6: bool = True
    """No IPv6 link-local address on the links made (netplan's choice); False: kernel default."""
    enter: str = "ip-n"
    """How `ip` gets into a namespace: `ip -n NS` (which also makes a mount namespace and
    remounts /sys, a cost that grows with the number of mounts) or `nsenter --net=PATH ip`."""

    def ip(self, netns: str, *args: str) -> list[str]:
        """argv of `ip ARGS` run in `netns` ("" for the root namespace)."""
        if not netns:
            return ["ip", *args]
        if self.enter == "nsenter":
            return ["nsenter", f"--net={RUN_NETNS}/{netns}", "ip", *args]
        return ["ip", "-n", netns, *args]


class CommandError(RuntimeError):
    """A command exited non-zero; carries its command line, exit code and stderr."""

    def __init__(self, argv: Sequence[str], code: int, stderr: str) -> None:
        tail = stderr.strip().splitlines()[-5:]
        super().__init__(f"`{' '.join(argv)}` exited {code}: {' | '.join(tail)}")
        self.argv = list(argv)
        self.code = code
        self.stderr = stderr


@dataclass(frozen=True)
class Container:
    name: str
    address: IPv4Address
    veth: str
    """Host end of the veth pair, named as netplan names it."""

    @property
    def mac(self) -> str:
        return "02:42:" + ":".join(f"{b:02x}" for b in self.address.packed)

    @property
    def cidr(self) -> str:
        return f"{self.address}/{SUBNET.prefixlen}"


def veth_name(container: str) -> str:
    """`veth` + 7 hex digits of sha256(topology/container/network), as netplan.compile does."""
    digest = hashlib.sha256(f"{TOPOLOGY}/{container}/{NETWORK}".encode()).hexdigest()
    return "veth" + digest[:7]


def containers(n: int) -> list[Container]:
    if not 0 < n < SUBNET.num_addresses - 3:
        raise ValueError(f"N must be between 1 and {SUBNET.num_addresses - 4}")
    return [Container(f"c{i}", GATEWAY + 1 + i, veth_name(f"c{i}")) for i in range(n)]


def topology_yaml(n: int) -> str:
    lines = [
        f"name: {TOPOLOGY}",
        "networks:",
        f"  {NETWORK}:",
        "    driver: bridge",
        f"    subnet: {SUBNET}",
        f"    bridge: {BRIDGE}",
        "containers:",
    ]
    for i in range(n):
        lines += [f"  c{i}:", f"    networks: [{NETWORK}]"]
    return "\n".join(lines) + "\n"


def netns_marker() -> str:
    return f"netplan:{TOPOLOGY}"


def bridge_marker() -> str:
    return f"netplan:{TOPOLOGY}:{NETWORK}"


def veth_marker(c: Container) -> str:
    return f"netplan:{TOPOLOGY}:{NETWORK}:{c.name}"


# --- running ip ----------------------------------------------------------------------------


def run(argv: Sequence[str], script: str | None = None) -> str:
    result = subprocess.run(
        argv,
        input=script,
        stdin=None if script is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    if result.returncode != 0:
        raise CommandError(argv, result.returncode, result.stderr)
    return result.stdout


def run_all(commands: Iterable[tuple[list[str], str]], jobs: int) -> list[str]:
    """Run (argv, stdin script) pairs, `jobs` at a time; outputs in the given order."""
    if jobs <= 1:
        return [run(argv, script) for argv, script in commands]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda command: run(*command), commands))


# --- apply / check / destroy ---------------------------------------------------------------


def root_script(cs: Sequence[Container], quiet_ipv6: bool) -> str:
    """Namespaces, the bridge with its gateway address, and one veth pair per container
    with the container end made directly in its namespace (MAC given at creation)."""
    quiet = " addrgenmode none" if quiet_ipv6 else ""
    lines = [f"netns add {c.name}" for c in cs]
    lines += [
        f"link add {BRIDGE} type bridge",
        # The kernel ignores an alias given to `link add`, and a link-local address made
        # when the link goes up stays: marker and addrgenmode go in before `up`.
        f"link set {BRIDGE} alias {bridge_marker()}{quiet}",
        f"link set {BRIDGE} up",
        f"address add {GATEWAY}/{SUBNET.prefixlen} dev {BRIDGE}",
    ]
    for c in cs:
        lines += [
            f"link add {c.veth} mtu 1500 master {BRIDGE} type veth "
            f"peer name eth0 netns {c.name} mtu 1500 address {c.mac}",
            f"link set {c.veth} alias {veth_marker(c)}{quiet}",
            f"link set {c.veth} up",
        ]
    return "\n".join(lines) + "\n"


def netns_script(c: Container, quiet_ipv6: bool) -> str:
    quiet = "link set eth0 addrgenmode none\n" if quiet_ipv6 else ""
    return (
        f"link set lo alias {netns_marker()} up\n"
        f"{quiet}"
        "link set eth0 up\n"
        f"address add {c.cidr} dev eth0\n"
        f"route add default via {GATEWAY} dev eth0 proto {ROUTE_PROTO}\n"
    )


def apply(cs: Sequence[Container], opts: Options) -> None:
    run(["ip", "-batch", "-"], root_script(cs, opts.quiet_ipv6))
    scripts = ((opts.ip(c.name, "-batch", "-"), netns_script(c, opts.quiet_ipv6)) for c in cs)
    run_all(scripts, opts.jobs)


DUMP = "address show\nroute show\n"
"""Per namespace: links with their addresses (one link dump + one address dump), routes.
`-d` because `ip address show` prints a link's alias only with details."""


def dump(cs: Sequence[Container], opts: Options) -> dict[str, list[list[dict[str, Any]]]]:
    """Parsed `ip -j` dumps by namespace ("" is the root): [addresses-with-links, routes]."""
    names = ["", *(c.name for c in cs)]
    commands = ((opts.ip(name, "-j", "-d", "-batch", "-"), DUMP) for name in names)
    outputs = run_all(commands, opts.jobs)
    return {
        name: [json.loads(line) for line in out.splitlines() if line.strip()]
        for name, out in zip(names, outputs, strict=True)
    }


def differences(
    cs: Sequence[Container], dumps: dict[str, list[list[dict[str, Any]]]], markers: bool = True
) -> list[str]:
    """What the kernel has that differs from the N-container topology (empty: in sync)."""
    found: list[str] = []
    have_ns = set(os.listdir(RUN_NETNS)) if os.path.isdir(RUN_NETNS) else set()
    for missing in sorted({c.name for c in cs} - have_ns):
        found.append(f"netns {missing} missing")
    links, _ = dumps[""]
    by_name = {link["ifname"]: link for link in links}
    bridge = by_name.get(BRIDGE)
    if bridge is None:
        found.append(f"bridge {BRIDGE} missing")
    else:
        found += _link(BRIDGE, bridge, None, bridge_marker() if markers else None)
        found += _addresses(BRIDGE, bridge, {f"{GATEWAY}/{SUBNET.prefixlen}"})
    for c in cs:
        peer = by_name.get(c.veth)
        if peer is None:
            found.append(f"veth {c.veth} missing")
        else:
            found += _link(c.veth, peer, None, veth_marker(c) if markers else None)
            if peer.get("master") != BRIDGE:
                found.append(f"{c.veth}: master {peer.get('master')}, want {BRIDGE}")
        ns = dumps.get(c.name)
        if ns is None:
            continue
        ns_links, routes = ns
        ns_by_name = {link["ifname"]: link for link in ns_links}
        lo = ns_by_name.get("lo")
        if lo is not None:
            found += _link(f"{c.name}/lo", lo, None, netns_marker() if markers else None)
        eth0 = ns_by_name.get("eth0")
        if eth0 is None:
            found.append(f"{c.name}/eth0 missing")
        else:
            found += _link(f"{c.name}/eth0", eth0, c.mac, None)
            found += _addresses(f"{c.name}/eth0", eth0, {c.cidr})
        default = [r for r in routes if r.get("dst") == "default"]
        want = {"gateway": str(GATEWAY), "dev": "eth0", "protocol": str(ROUTE_PROTO)}
        if len(default) != 1 or any(default[0].get(k) != v for k, v in want.items()):
            found.append(f"{c.name}: default route {default}, want {want}")
    return found


def _link(where: str, link: dict[str, Any], mac: str | None, alias: str | None) -> list[str]:
    found = []
    if "UP" not in link.get("flags", []):
        found.append(f"{where} is down")
    if mac is not None and link.get("address") != mac:
        found.append(f"{where}: mac {link.get('address')}, want {mac}")
    if alias is not None and link.get("ifalias") != alias:
        found.append(f"{where}: alias {link.get('ifalias')!r}, want {alias!r}")
    return found


def _addresses(where: str, link: dict[str, Any], want: set[str]) -> list[str]:
    have = {
        f"{a['local']}/{a['prefixlen']}"
        for a in link.get("addr_info", [])
        if a.get("family") == "inet"
    }
    return [] if have == want else [f"{where}: IPv4 {sorted(have)}, want {sorted(want)}"]


def check(cs: Sequence[Container], opts: Options) -> list[str]:
    """The no-op drift check: dump every namespace, compare; the differences found."""
    return differences(cs, dump(cs, opts))


def destroy_script(cs: Sequence[Container]) -> str:
    return "".join(f"netns del {c.name}\n" for c in cs) + f"link del {BRIDGE}\n"


def destroy(cs: Sequence[Container]) -> None:
    run(["ip", "-batch", "-"], destroy_script(cs))


def cleanup(cs: Sequence[Container]) -> None:
    """Remove whatever of this benchmark's objects exist, by exact name, ignoring errors."""
    have_ns = set(os.listdir(RUN_NETNS)) if os.path.isdir(RUN_NETNS) else set()
    links = {link["ifname"] for link in json.loads(run(["ip", "-j", "link", "show"]) or "[]")}
    lines = [f"netns del {c.name}" for c in cs if c.name in have_ns]
    lines += [f"link del {c.veth}" for c in cs if c.veth in links]
    if BRIDGE in links:
        lines.append(f"link del {BRIDGE}")
    if lines:
        subprocess.run(
            ["ip", "-force", "-batch", "-"],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )


def ipv6_link_local(dumps: dict[str, list[list[dict[str, Any]]]], ns: str, dev: str) -> bool:
    """Whether `dev` in namespace `ns` has an IPv6 link-local address (autoconfiguration on)."""
    for link in dumps.get(ns, [[], []])[0]:
        if link["ifname"] == dev:
            return any(a.get("family") == "inet6" for a in link.get("addr_info", []))
    return False
