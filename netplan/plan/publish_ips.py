"""Published ports bound to a host IP the host does not have: the DNAT rule would match
traffic to an address nothing sends to the host, and no one could reach the port. Docker
refuses these at start ("cannot assign requested address": its proxy cannot bind). Pure.

The host's addresses are those of every link of its root namespace, whoever owns them
(Facts.local_ips), and those the plan puts on this topology's bridges (a port may be
published on a bridge's gateway address before the bridge exists); an address the plan
takes off one of its bridges no longer counts. As for port clashes, only a port the
topology does not publish yet is checked (netplan/plan/port_clashes.py).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from netplan.agent.resources import ROOT, Address
from netplan.agent.state import HostState
from netplan.firewall.show import published
from netplan.plan.changes import Conflict
from netplan.plan.port_clashes import described, new_published


def local_ip_conflicts(host: str, desired: HostState, observed: HostState) -> list[Conflict]:
    """One conflict per new desired published port bound to an IP that `host` does not
    have, naming the container, the port and the IP; none when the host's addresses were
    not asked for (Facts.local_ips is None)."""
    if observed.facts.local_ips is None:
        return []
    networks = _host_networks(observed.facts.local_ips, desired, observed)
    return [
        Conflict(described(container, mapping),
                 f"is bound to {ip}, which is not an address of host {host}",
                 f"use an address of host {host} (`ip -br addr` lists them), or leave the "
                 f"IP out to publish on all of them")
        for container, mapping in new_published(desired, observed)
        if (ip := mapping.host_ip) is not None and not any(ip in net for net in networks)
    ]  # fmt: skip


def binds_host_ips(state: HostState) -> bool:
    """A port the state publishes is bound to a host IP: its host's observation must
    report the host's addresses (a saved plan's desired state, which is not compiled
    again)."""
    return any(mapping.host_ip is not None for _, mapping in published(state))


def _host_networks(local_ips: tuple[str, ...], desired: HostState,
                   observed: HostState) -> list[IPv4Network]:
    """The host's networks once the plan has run: what it has, without the addresses
    the plan takes off its bridges, with those it puts on them."""
    wanted = _bridge_ips(desired)
    leaving = _bridge_ips(observed) - wanted
    has = [IPv4Network(text) for text in local_ips]
    kept = [net for net in has if not (net.prefixlen == 32 and net[0] in leaving)]
    return kept + [IPv4Network(ip) for ip in sorted(wanted)]


def _bridge_ips(state: HostState) -> set[IPv4Address]:
    """The IPv4 addresses of the state's root-namespace addresses (its bridges')."""
    return {IPv4Interface(r.cidr).ip for r in state.resources.values()
            if isinstance(r, Address) and r.netns == ROOT and ":" not in r.cidr}
