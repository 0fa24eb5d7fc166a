"""The reference scripts of the benchmark: the same kernel objects netplan makes, with `ip`.

A benchmark topology (`Topo`) is N containers on B bridges (B = 1, or 10 for the
"ten-bridges" layout), exactly as netplan compiles `Topo.yaml()`: namespace `cI` on network
I mod B, veth `eth0` inside it (peer `vethXXXXXXX`, named as netplan names it, on that
network's bridge), the network's next address, MAC 02:42 + the IPv4 bytes, default route via
the gateway with netplan's route protocol, netplan's ownership markers (interface aliases),
netplan's nftables table (loaded with `nft -f`, its text rendered by netplan itself) and
`net.ipv4.ip_forward=1`; like netplan, no IPv6 link-local addresses (addrgenmode none before
a link goes up), so every way does the same kernel work.

This module is the `ip -batch` way. Apply: one `ip -batch` in the root namespace, `nft -f`,
`sysctl`, then one `ip -n cI -batch -` per namespace. Check: one `ip -j -batch` dump
(addresses with their links, routes) per namespace plus one in the root, and the nftables
table, parsed and compared with the expected objects. Add: the same two batches for one
container. Destroy: one `ip -batch` of `netns del` and `link del` of the bridges (the kernel
removes each veth with its namespace), and `nft delete table`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, cached_property
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

TOPOLOGY = "bench"
ROUTE_PROTO = 77
"""rtm_protocol netplan gives its routes (netplan.agent.resources.ROUTE_PROTO)."""
RUN_NETNS = "/run/netns"
TIMEOUT = 1800.0
LAYOUTS = {"one-bridge": 1, "ten-bridges": 10}
"""Layout name → number of bridges the N containers are spread over."""


@dataclass(frozen=True)
class Network:
    name: str
    bridge: str
    subnet: IPv4Network
    topology: str = TOPOLOGY

    @property
    def gateway(self) -> IPv4Address:
        return self.subnet.network_address + 1

    @property
    def marker(self) -> str:
        return f"netplan:{self.topology}:{self.name}"


@dataclass(frozen=True)
class Container:
    name: str
    network: Network
    address: IPv4Address
    veth: str
    """Host end of the veth pair, named as netplan names it."""

    @property
    def mac(self) -> str:
        return "02:42:" + ":".join(f"{b:02x}" for b in self.address.packed)

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.network.subnet.prefixlen}"

    @property
    def marker(self) -> str:
        return f"{self.network.marker}:{self.name}"


def veth_name(container: str, network: str, topology: str = TOPOLOGY) -> str:
    """`veth` + 7 hex digits of sha256(topology/container/network), as netplan.compile does."""
    digest = hashlib.sha256(f"{topology}/{container}/{network}".encode()).hexdigest()
    return "veth" + digest[:7]


@dataclass(frozen=True)
class Topo:
    """N containers spread over `bridges` bridge networks (container I on network I mod B)."""

    n: int
    bridges: int = 1
    instance: int = 0
    """0: the benchmark's topology. K > 0: another one that can live beside it in the same
    network namespace (topology `bench-hK`, namespaces `hK-cI`, its own bridges, veths,
    subnets and nftables table), for several builds at once."""

    @property
    def name(self) -> str:
        return f"{TOPOLOGY}-h{self.instance}" if self.instance else TOPOLOGY

    @cached_property
    def networks(self) -> list[Network]:
        first = 100 + self.instance * self.bridges
        if first + self.bridges > 256:
            raise ValueError(f"instance {self.instance} has no free 10.x.0.0/16 subnets")
        if self.bridges == 1:
            subnet = IPv4Network(f"10.{first}.0.0/16")
            return [Network(self.name, f"br-{self.name}", subnet, self.name)]
        return [
            Network(f"{self.name}{k}", f"br-{self.name}{k}",
                    IPv4Network(f"10.{first + k}.0.0/16"), self.name)
            for k in range(self.bridges)
        ]

    @cached_property
    def containers(self) -> list[Container]:
        if not 0 < self.n < 250 * self.bridges * 256:
            raise ValueError(f"N={self.n} does not fit {self.bridges} /16 networks")
        result = []
        for i in range(self.n):
            net = self.networks[i % self.bridges]
            name = f"h{self.instance}-c{i}" if self.instance else f"c{i}"
            address = net.gateway + 1 + i // self.bridges
            result.append(Container(name, net, address, veth_name(name, net.name, self.name)))
        return result

    def grown(self) -> Topo:
        """The same topology with one more container (the incremental step)."""
        return Topo(self.n + 1, self.bridges, self.instance)

    def yaml(self) -> str:
        lines = [f"name: {self.name}", "networks:"]
        for net in self.networks:
            lines += [
                f"  {net.name}:",
                "    driver: bridge",
                f"    subnet: {net.subnet}",
                f"    bridge: {net.bridge}",
            ]
        lines.append("containers:")
        for c in self.containers:
            lines += [f"  {c.name}:", f"    networks: [{c.network.name}]"]
        return "\n".join(lines) + "\n"

    @property
    def firewall(self) -> Firewall:
        return firewall(self.bridges, self.instance)


def netns_marker(topology: str = TOPOLOGY) -> str:
    return f"netplan:{topology}"


# --- what netplan adds besides links: its nftables table and sysctls -----------------------


@dataclass(frozen=True)
class Firewall:
    table: str
    """`inet netplan_bench`."""
    script: str
    """`nft -f` input that loads the table in one transaction, as netplan's agent does."""
    sysctls: tuple[tuple[str, str], ...]


@cache
def firewall(bridges: int, instance: int = 0) -> Firewall:
    """netplan's nftables table and sysctls for the layout, rendered by netplan itself (they
    depend on the networks, not on the containers), so the scripts load the same rules."""
    import tempfile

    from netplan.agent.firewall import script
    from netplan.agent.resources import NftTable, Sysctl
    from netplan.compile import compile_topology
    from netplan.topology.loader import load_topology

    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
        file.write(Topo(bridges, bridges, instance).yaml())
        file.flush()
        topology = load_topology(file.name)
    [state] = compile_topology(topology, {}).values()
    tables = [r for r in state.resources.values() if isinstance(r, NftTable)]
    sysctls = tuple(
        (r.name, r.value) for r in state.resources.values() if isinstance(r, Sysctl)
    )
    if len(tables) != 1:
        raise RuntimeError(f"expected one nftables table from netplan, got {len(tables)}")
    table = tables[0]
    return Firewall(f"{table.family} {table.name}", script(table), sysctls)


# --- running commands ----------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    jobs: int = 2
    """Per-namespace `ip -n` processes of the ip -batch way run at once."""
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
        super().__init__(f"`{' '.join(argv)[:200]}` exited {code}: {' | '.join(tail)}")
        self.argv = list(argv)
        self.code = code
        self.stderr = stderr


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


def run_all(commands: Iterable[tuple[list[str], str | None]], jobs: int) -> list[str]:
    """Run (argv, stdin script) pairs, `jobs` at a time; outputs in the given order."""
    if jobs <= 1:
        return [run(argv, script) for argv, script in commands]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda command: run(*command), commands))


# --- the steps, as `ip` command lines (shared with the one-command-per-step way) -----------


def bridge_lines(topo: Topo, quiet_ipv6: bool) -> list[str]:
    quiet = " addrgenmode none" if quiet_ipv6 else ""
    lines = []
    for net in topo.networks:
        lines += [
            f"link add {net.bridge} type bridge",
            # The kernel ignores an alias given to `link add`, and a link-local address made
            # when the link goes up stays: marker and addrgenmode go in before `up`.
            f"link set {net.bridge} alias {net.marker}{quiet}",
            f"link set {net.bridge} up",
            f"address add {net.gateway}/{net.subnet.prefixlen} dev {net.bridge}",
        ]
    return lines


def veth_lines(c: Container, quiet_ipv6: bool) -> list[str]:
    """The veth pair with the container end made directly in its namespace (MAC given)."""
    quiet = " addrgenmode none" if quiet_ipv6 else ""
    return [
        f"link add {c.veth} mtu 1500 master {c.network.bridge} type veth "
        f"peer name eth0 netns {c.name} mtu 1500 address {c.mac}",
        f"link set {c.veth} alias {c.marker}{quiet}",
        f"link set {c.veth} up",
    ]


def root_lines(topo: Topo, quiet_ipv6: bool) -> list[str]:
    lines = [f"netns add {c.name}" for c in topo.containers]
    lines += bridge_lines(topo, quiet_ipv6)
    for c in topo.containers:
        lines += veth_lines(c, quiet_ipv6)
    return lines


def netns_lines(c: Container, quiet_ipv6: bool) -> list[str]:
    return [
        f"link set lo alias {netns_marker(c.network.topology)} up",
        *(["link set eth0 addrgenmode none"] if quiet_ipv6 else []),
        "link set eth0 up",
        f"address add {c.cidr} dev eth0",
        f"route add default via {c.network.gateway} dev eth0 proto {ROUTE_PROTO}",
    ]


def destroy_lines(topo: Topo) -> list[str]:
    return [f"netns del {c.name}" for c in topo.containers] + [
        f"link del {net.bridge}" for net in topo.networks
    ]


def script(lines: Iterable[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


# --- the ip -batch way ---------------------------------------------------------------------


def set_sysctls(fw: Firewall) -> None:
    for name, value in fw.sysctls:
        run(["sysctl", "-qw", f"{name}={value}"])


def apply(topo: Topo, opts: Options) -> None:
    run(["ip", "-batch", "-"], script(root_lines(topo, opts.quiet_ipv6)))
    run(["nft", "-f", "-"], topo.firewall.script)
    set_sysctls(topo.firewall)
    scripts = (
        (opts.ip(c.name, "-batch", "-"), script(netns_lines(c, opts.quiet_ipv6)))
        for c in topo.containers
    )
    run_all(scripts, opts.jobs)


def apply_shell(topo: Topo, opts: Options, directory: Path) -> Path:
    """`apply` as a shell script over batch files written now: the same commands, with no
    Python in the process tree that runs them (the per-namespace batches through
    `xargs -P JOBS`), so that several can run at once as separate processes."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "root.batch").write_text(script(root_lines(topo, opts.quiet_ipv6)))
    (directory / "firewall.nft").write_text(topo.firewall.script)
    (directory / "namespaces").write_text(script(c.name for c in topo.containers))
    for c in topo.containers:
        (directory / f"{c.name}.batch").write_text(script(netns_lines(c, opts.quiet_ipv6)))
    where = shlex.quote(str(directory))
    enter = shlex.join(opts.ip("{}", "-batch", f"{directory}/{{}}.batch"))
    sysctls = shlex.join(f"{name}={value}" for name, value in topo.firewall.sysctls)
    path = directory / "apply.sh"
    path.write_text(script([
        "set -e",
        f"ip -batch {where}/root.batch",
        f"nft -f {where}/firewall.nft",
        *([f"sysctl -qw {sysctls}"] if sysctls else []),
        f"xargs -P {opts.jobs} -I {{}} {enter} < {where}/namespaces",
    ]))
    return path


def add(topo: Topo, opts: Options) -> None:
    """The last container of `topo` (the others exist): its namespace, veth and settings."""
    c = topo.containers[-1]
    run(["ip", "-batch", "-"], script([f"netns add {c.name}", *veth_lines(c, opts.quiet_ipv6)]))
    run(opts.ip(c.name, "-batch", "-"), script(netns_lines(c, opts.quiet_ipv6)))


def destroy(topo: Topo) -> None:
    run(["ip", "-batch", "-"], script(destroy_lines(topo)))
    run(["nft", "delete", "table", *topo.firewall.table.split()])


DUMP = "address show\nroute show\n"
"""Per namespace: links with their addresses (one link dump + one address dump), routes.
`-d` because `ip address show` prints a link's alias only with details."""

Dumps = dict[str, list[list[dict[str, Any]]]]
"""Parsed `ip -j` dumps by namespace ("" is the root): [addresses-with-links, routes]."""


def dump(topo: Topo, opts: Options) -> Dumps:
    names = ["", *(c.name for c in topo.containers)]
    commands = ((opts.ip(name, "-j", "-d", "-batch", "-"), DUMP) for name in names)
    outputs = run_all(commands, opts.jobs)
    return {
        name: [json.loads(line) for line in out.splitlines() if line.strip()]
        for name, out in zip(names, outputs, strict=True)
    }


def nft_rules(topo: Topo) -> int | None:
    """Rules in netplan's table (None: no such table), read with `nft -j`."""
    result = subprocess.run(
        ["nft", "-j", "list", "table", *topo.firewall.table.split()],
        capture_output=True, text=True, timeout=TIMEOUT,
    )
    if result.returncode != 0:
        return None
    return sum(1 for item in json.loads(result.stdout)["nftables"] if "rule" in item)


def differences(topo: Topo, dumps: Dumps, rules: int | None, markers: bool = True) -> list[str]:
    """What the kernel has that differs from the topology (empty: in sync)."""
    found: list[str] = []
    if rules is None:
        found.append(f"nftables table {topo.firewall.table} missing")
    have_ns = set(os.listdir(RUN_NETNS)) if os.path.isdir(RUN_NETNS) else set()
    for missing in sorted({c.name for c in topo.containers} - have_ns):
        found.append(f"netns {missing} missing")
    links, _ = dumps[""]
    by_name = {link["ifname"]: link for link in links}
    for net in topo.networks:
        bridge = by_name.get(net.bridge)
        if bridge is None:
            found.append(f"bridge {net.bridge} missing")
        else:
            found += _link(net.bridge, bridge, None, net.marker if markers else None)
            found += _addresses(net.bridge, bridge, {f"{net.gateway}/{net.subnet.prefixlen}"})
    for c in topo.containers:
        peer = by_name.get(c.veth)
        if peer is None:
            found.append(f"veth {c.veth} missing")
        else:
            found += _link(c.veth, peer, None, c.marker if markers else None)
            if peer.get("master") != c.network.bridge:
                found.append(f"{c.veth}: master {peer.get('master')}, want {c.network.bridge}")
        ns = dumps.get(c.name)
        if ns is None:
            continue
        ns_links, routes = ns
        ns_by_name = {link["ifname"]: link for link in ns_links}
        lo = ns_by_name.get("lo")
        if lo is not None:
            marker = netns_marker(c.network.topology) if markers else None
            found += _link(f"{c.name}/lo", lo, None, marker)
        eth0 = ns_by_name.get("eth0")
        if eth0 is None:
            found.append(f"{c.name}/eth0 missing")
        else:
            found += _link(f"{c.name}/eth0", eth0, c.mac, None)
            found += _addresses(f"{c.name}/eth0", eth0, {c.cidr})
        default = [r for r in routes if r.get("dst") == "default"]
        want = {"gateway": str(c.network.gateway), "dev": "eth0", "protocol": str(ROUTE_PROTO)}
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


def check(topo: Topo, opts: Options) -> list[str]:
    """The no-op drift check: dump every namespace, compare; the differences found."""
    return differences(topo, dump(topo, opts), nft_rules(topo))


def cleanup(topo: Topo) -> None:
    """Remove whatever of this benchmark's objects exist, by exact name, ignoring errors."""
    have_ns = set(os.listdir(RUN_NETNS)) if os.path.isdir(RUN_NETNS) else set()
    links = {link["ifname"] for link in json.loads(run(["ip", "-j", "link", "show"]) or "[]")}
    lines = [f"netns del {c.name}" for c in topo.containers if c.name in have_ns]
    lines += [f"link del {c.veth}" for c in topo.containers if c.veth in links]
    lines += [f"link del {net.bridge}" for net in topo.networks if net.bridge in links]
    if lines:
        subprocess.run(
            ["ip", "-force", "-batch", "-"], input=script(lines),
            capture_output=True, text=True, timeout=TIMEOUT,
        )
    subprocess.run(
        ["nft", "delete", "table", *topo.firewall.table.split()],
        capture_output=True, timeout=TIMEOUT,
    )


def ipv6_link_local(dumps: Dumps, ns: str, dev: str) -> bool:
    """Whether `dev` in namespace `ns` has an IPv6 link-local address (autoconfiguration on)."""
    for link in dumps.get(ns, [[], []])[0]:
        if link["ifname"] == dev:
            return any(a.get("family") == "inet6" for a in link.get("addr_info", []))
    return False
