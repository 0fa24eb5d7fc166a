"""The order `netplan show` prints containers and networks in, read back from what the
hosts hold, so that its output applied again renders the same hosts files and rules.

The order of `containers:` makes each network's lines in every hosts file
(netplan/etchosts.py: on each network, its containers in the file's order); the order of
`networks:` makes the order of the per-bridge rules in the nftables tables
(netplan/firewall/rules.py). Each file, or each chain, shows one partial order; the
printed order is one consistent with all of them (`merged_order`). Pure: texts in,
orders out.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Mapping, Sequence
from itertools import pairwise

from netplan.show_aliases import Attachment, hosts_lines


def merged_order(orders: Iterable[Sequence[str]], names: Iterable[str]) -> list[str]:
    """Every name of `names` once, each order's names in that order: a stable
    topological merge (Kahn's), the smallest name first among those free to go next, so
    names no order places go by name. Orders that contradict each other (no text netplan
    writes does) are broken at the smallest name left rather than refused."""
    after: dict[str, set[str]] = {name: set() for name in names}
    before: dict[str, set[str]] = {name: set() for name in after}
    for order in orders:
        placed = [name for name in order if name in after]
        for first, then in pairwise(placed):
            if first != then:
                after[first].add(then)
                before[then].add(first)
    ready = [name for name, earlier in before.items() if not earlier]
    heapq.heapify(ready)
    left = set(after)
    found: list[str] = []
    while left:
        name = heapq.heappop(ready) if ready else min(left)  # min: a contradiction
        left.discard(name)
        found.append(name)
        for then in after[name]:
            before[then].discard(name)
            if not before[then] and then in left:
                heapq.heappush(ready, then)
    return found


def network_members(files: Mapping[str, str], addresses: Mapping[Attachment, str],
                    hostnames: Collection[str]) -> list[list[str]]:
    """Per hosts file and network, the containers its lines list there, in the file's
    order: `files` is container → the text of its hosts file, `addresses` (container,
    network) → the container's IPv4 address there. The file of a container of
    `hostnames` (those with a `hostname`) has its own lines first, wherever it is among
    its networks' containers: it is left out of its own file, and its place shows in its
    peers' files."""
    networks_of: dict[str, frozenset[str]] = {}
    for container, network in addresses:
        networks_of[container] = networks_of.get(container, frozenset()) | {network}
    found: list[list[str]] = []
    read: set[tuple[str, frozenset[str], str | None]] = set()
    for owner, text in files.items():
        mine = networks_of.get(owner, frozenset())
        left_out = owner if owner in hostnames else None
        if (text, mine, left_out) in read:  # the containers of a network share one text
            continue
        read.add((text, mine, left_out))
        listed = {address: (container, network)
                  for (container, network), address in addresses.items()
                  if network in mine and container != left_out}
        members: dict[str, list[str]] = {}
        for address in hosts_lines(text):
            if address in listed:
                container, network = listed[address]
                members.setdefault(network, []).append(container)
        found += members.values()
    return found
