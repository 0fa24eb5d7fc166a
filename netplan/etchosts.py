"""Name resolution between containers: the hosts file of every container namespace.

Docker resolves the names and aliases of the containers on a user network through its
embedded DNS server; netplan writes the same answers into `/etc/netns/<ns>/hosts`, which
`ip netns exec` (and `netplan exec`) bind-mount over /etc/hosts. Every network of a
topology is declared by its user, so every network counts as a user network, whatever
its driver. Pure: the topology and the central IPAM's addresses in, file texts out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from ipaddress import IPv4Address
from itertools import accumulate

from netplan.agent.resources import HostsFile, bytes_digest, text_of
from netplan.drivers.base import Context
from netplan.processes import netns_of
from netplan.topology.model import Topology

LOCALHOST = ("127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback")
"""The loopback lines every container's /etc/hosts starts with, as Docker writes them."""
LOCALHOST_TEXT = text_of(LOCALHOST)

Addresses = Mapping[tuple[str, str], IPv4Address]
"""(container, network) → address, as netplan.compile.assign_addresses decides them."""


def has_hosts_file(topology: Topology, container: str) -> bool:
    """Every container with a namespace of its own: not `host` mode (the host's file is
    not ours), not `container:X` mode (it shares X's namespace, and X's file)."""
    spec = topology.containers[container]
    return spec.network_mode != "host" and spec.shares_with is None


def render(topology: Topology, addresses: Addresses) -> dict[str, str]:
    """The text of the hosts file of every container that has one, by container:
    localhost; then, network by network in the order of its `networks`, every container
    on that network by name and aliases, at its address on that network; itself among
    them. A container met on two networks appears twice, the first network's address
    first (which is what a lookup returns, its own name included). No line repeats: each
    starts with an address of its own, and the networks a container is on have disjoint
    subnets.

    So the containers on the same networks, in the same order, have one text: the same
    str object, which the agent writes once and links (netplan/agent/hostsfile.py). At
    N=1,000 on one network that is one file of 1,000 lines, not 1,000 of them. A
    container with a `hostname` has a file of its own, as Docker writes it: itself first
    (its name, hostname and short hostname on its first address, its aliases on each
    network), then the others, network by network."""
    members = _Members(topology, addresses)
    shared: dict[tuple[str, ...], str] = {}
    files: dict[str, str] = {}
    for container, spec in topology.containers.items():
        if not has_hosts_file(topology, container):
            continue
        if spec.hostname:
            own = text_of(_own_lines(topology, addresses, container))
            peers = [members.others(network, container) for network in spec.networks]
            files[container] = "".join([LOCALHOST_TEXT, own, *peers])
            continue
        networks = tuple(spec.networks)
        text = shared.get(networks)
        if text is None:
            text = shared[networks] = "".join(
                [LOCALHOST_TEXT, *(members.text[network] for network in networks)])
        files[container] = text
    return files


class _Members:
    """Per network, the lines each container on it is resolved by, in the file's order,
    as one text, and where each line starts in it: the file of a container with a
    hostname has that text with its own line cut out (`others`)."""

    def __init__(self, topology: Topology, addresses: Addresses) -> None:
        lines: dict[str, list[str]] = {network: [] for network in topology.networks}
        self.position: dict[tuple[str, str], int] = {}
        for container, spec in topology.containers.items():
            for network, attachment in spec.networks.items():
                self.position[(container, network)] = len(lines[network])
                names = (container, *attachment.aliases)
                lines[network].append(_line(addresses[(container, network)], names))
        self.text = {network: text_of(found) for network, found in lines.items()}
        self.starts = {network: list(accumulate((len(line) + 1 for line in found), initial=0))
                       for network, found in lines.items()}

    def others(self, network: str, container: str) -> str:
        text, starts = self.text[network], self.starts[network]
        at = self.position[(container, network)]
        return text[:starts[at]] + text[starts[at + 1]:]


def _own_lines(topology: Topology, addresses: Addresses, container: str) -> Iterator[str]:
    spec = topology.containers[container]
    for index, (network, attachment) in enumerate(spec.networks.items()):
        names = [*(_self_names(container, spec.hostname) if index == 0 else ()),
                 *attachment.aliases]
        if names:
            yield _line(addresses[(container, network)], names)


def _self_names(container: str, hostname: str | None) -> list[str]:
    """The container's name, then its hostname and that name's first label, as Docker
    writes `address fqdn short`."""
    names = [container]
    if hostname:
        names += [hostname, hostname.split(".", 1)[0]]
    return names


def _line(address: IPv4Address, names: tuple[str, ...] | list[str]) -> str:
    return " ".join([str(address), *dict.fromkeys(names)])


def compile_hosts_files(context: Context) -> None:
    """A HostsFile for every container namespace, on its host; each text digested once,
    however many containers share it. A namespace a process runs in keeps a file of its
    own (HostsFile.shared): the process holds a mount of the file's inode, and a shared
    file that had to be split to follow the container to other networks would leave it
    with the old one."""
    topology = context.topology
    running = {netns_of(topology, name) for name, spec in topology.containers.items()
               if spec.command is not None}
    digests: dict[str, str] = {}
    for name, text in render(topology, context.addresses).items():
        digest = digests.get(text)
        if digest is None:
            digest = digests[text] = bytes_digest(text.encode())
        context.desired[context.host_of(name)].add(
            HostsFile(name, text, digest, shared=name not in running))
