"""The per-command way: a generated shell script with one `ip` command per step.

This is how tutorials build a namespace topology: `ip netns add c0`, `ip link add …`,
`ip -n c0 link set eth0 up`, … — each line its own process. The steps are exactly those
of the `ip -batch` way (bench/ipbatch.py), one command each, plus `nft -f` for netplan's
table and `sysctl -w`. The script is generated before the clock starts; the timed part is
`bash -e SCRIPT`. Its check is what such a script's author would run: one `ip -j` command
per dump (addresses with links, then routes) per namespace, one after the other.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import ipbatch
from ipbatch import Container, Options, Topo


def _root(lines: list[str]) -> list[str]:
    return [f"ip {line}" for line in lines]


def _netns(opts: Options, c: Container) -> list[str]:
    head = shlex.join(opts.ip(c.name))
    return [f"{head} {line}" for line in ipbatch.netns_lines(c, opts.quiet_ipv6)]


def _firewall(topo: Topo) -> list[str]:
    fw = topo.firewall
    return [
        f"nft -f - <<'NFT'\n{fw.script}NFT",
        *(f"sysctl -qw {name}={value}" for name, value in fw.sysctls),
    ]


def apply_script(topo: Topo, opts: Options) -> str:
    lines = _root(ipbatch.root_lines(topo, opts.quiet_ipv6)) + _firewall(topo)
    for c in topo.containers:
        lines += _netns(opts, c)
    return ipbatch.script(lines)


def add_script(topo: Topo, opts: Options) -> str:
    """The last container of `topo`, one command per step."""
    c = topo.containers[-1]
    lines = _root([f"netns add {c.name}", *ipbatch.veth_lines(c, opts.quiet_ipv6)])
    return ipbatch.script(lines + _netns(opts, c))


def destroy_script(topo: Topo) -> str:
    lines = _root(ipbatch.destroy_lines(topo))
    return ipbatch.script([*lines, f"nft delete table {topo.firewall.table}"])


def run_script(path: Path) -> None:
    ipbatch.run(["bash", "-e", str(path)])


def check(topo: Topo, opts: Options) -> list[str]:
    """One `ip -j` process per dump and namespace, in sequence, compared as ipbatch does."""
    dumps: ipbatch.Dumps = {}
    for name in ["", *(c.name for c in topo.containers)]:
        links = ipbatch.run(opts.ip(name, "-j", "-d", "address", "show"))
        routes = ipbatch.run(opts.ip(name, "-j", "route", "show"))
        dumps[name] = [json.loads(links), json.loads(routes)]
    return ipbatch.differences(topo, dumps, ipbatch.nft_rules(topo))
