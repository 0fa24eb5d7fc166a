"""Mininet building the benchmark topology; run by bench/mininet_way.py, not by hand.

Runs under Debian's /usr/bin/python3, where the `mininet` package installs its module:

    /usr/bin/python3 bench/mininet_driver.py N BRIDGES

N hosts `cI` on BRIDGES Linux-bridge switches (`LinuxBridge`, mn's `--switch lxbr`), no
controller; host cI on switch s(I mod B + 1) with the same address and default route the
other ways give it. A Mininet network lives as long as its Python process, so this stays
up and takes commands on stdin, one a line: `add` (one more host on the running network)
and `stop` (`net.stop()`, then exit). Each answer is a line `BENCH <what>` on stdout.

Mininet's `mn` also calls `fixLimits()`, which writes machine-wide sysctls; this driver
does not: it only raises its own open-files limit (two descriptors per host).
"""

from __future__ import annotations

import resource
import sys
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge


def address(i: int, bridges: int) -> tuple[str, str]:
    """(cidr, gateway) of host cI, as bench/ipbatch.py's Topo gives container cI."""
    k = i % bridges
    subnet = IPv4Network(f"10.{100 + k}.0.0/16")
    gateway = subnet.network_address + 1
    return f"{IPv4Address(int(gateway) + 1 + i // bridges)}/16", str(gateway)


def add_host(net: Any, i: int, bridges: int) -> tuple[Any, Any, Any]:
    cidr, gateway = address(i, bridges)
    host = net.addHost(f"c{i}", ip=cidr, defaultRoute=f"via {gateway}")
    switch = net.switches[i % bridges]
    return host, switch, net.addLink(host, switch)


def answer(what: str) -> None:
    print(f"BENCH {what}", flush=True)


def main() -> int:
    n, bridges = int(sys.argv[1]), int(sys.argv[2])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, min(hard, 4 * n + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    setLogLevel("warning")
    net = Mininet(switch=LinuxBridge, controller=None, build=False, autoSetMacs=False)
    for k in range(bridges):
        net.addSwitch(f"s{k + 1}")
    for i in range(n):
        add_host(net, i, bridges)
    net.build()
    net.start()
    answer("ready")
    for line in sys.stdin:
        command = line.strip()
        if command == "add":
            host, switch, link = add_host(net, n, bridges)
            n += 1
            switch.cmd("brctl addif", switch, link.intf2)
            link.intf2.ifconfig("up")
            host.configDefault()
            answer("added")
        elif command == "stop":
            net.stop()
            answer("stopped")
            return 0
        else:
            answer(f"error unknown command {command!r}")
            return 1
    net.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
