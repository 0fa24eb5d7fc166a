"""One change behind netplan's back, and how the makers of the drift catalogue choose its
target so that the changes of one batch never touch the same object (nor one that goes
with another's: a tunnel's entries with the tunnel, a bridge's ports with the bridge)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from tests.reliability.survey import Owned

T = TypeVar("T")


@dataclass(frozen=True)
class Change:
    kind: str
    place: str
    command: str
    """The shell line that makes it, run at the place."""
    expects: tuple[str, ...]
    """check must name one of these keys (alternatives for one resource)."""
    undo: str = ""
    """For a KNOWN_GAPS kind: the shell line that puts back by hand what apply does not."""

    def line(self) -> str:
        return f"{self.kind} on {self.place}: {self.command}"


Maker = Callable[[Owned, random.Random, set[str]], Change | None]
"""A change to one of the owned objects, none of whose targets is in `used` (a batch's
changes never touch the same container or table); None when there is nothing to change."""

Made = tuple[str, tuple[str, ...]]
"""A change's shell line, and the keys check must name (one of them)."""


def maker(kind: str, choose: Callable[[Owned, random.Random, set[str]], T | None],
          made: Callable[[Owned, T, random.Random], Made],
          undo: Callable[[T], str] | None = None) -> Maker:
    """The Maker of `kind`: its target chosen (and put in `used`) by `choose`, then the
    change `made` to it; `undo` for a KNOWN_GAPS kind."""
    def make(owned: Owned, rng: random.Random, used: set[str]) -> Change | None:
        target = choose(owned, rng, used)
        if target is None:
            return None
        command, expects = made(owned, target, rng)
        return Change(kind, owned.place.name, command, expects, undo(target) if undo else "")

    return make


def pick(names: Iterable[str], rng: random.Random, used: set[str]) -> str | None:
    """One of `names` not in `used` (then in it), drawn at random; None if all are."""
    free = sorted(n for n in names if n not in used)
    if not free:
        return None
    chosen = rng.choice(free)
    used.add(chosen)
    return chosen


def container(owned: Owned, rng: random.Random, used: set[str]) -> str | None:
    return pick(owned.containers, rng, used)


def eth(owned: Owned, netns: str, rng: random.Random) -> str:
    names = sorted(link["ifname"] for link in owned.containers[netns]["links"]
                   if link["ifname"] != "lo")
    chosen: str = rng.choice(names)
    return chosen


def end_of(owned: Owned, netns: str, name: str) -> str:
    """The host end of the veth whose container end is `name` in `netns`."""
    ends = [end for end, peer in owned.host_ends.items() if peer == (netns, name)]
    return ends[0]


def on_tunnel(targets: Callable[[Owned, str], list[T]],
              ) -> Callable[[Owned, random.Random, set[str]], tuple[str, T] | None]:
    """A chooser of a tunnel that no other change of the batch touches, nor its bridge,
    with one of its `targets` (its entries, or itself), drawn at random; the tunnel and
    its bridge are then in `used`. None if no free tunnel has a target."""
    def choose(owned: Owned, rng: random.Random, used: set[str]) -> tuple[str, T] | None:
        free = sorted(t for t in owned.tunnels
                      if t not in used and owned.ports.get(t) not in used)
        rng.shuffle(free)
        for tunnel in free:
            found = targets(owned, tunnel)
            if found:
                used.update((tunnel, owned.ports.get(tunnel, tunnel)))
                return tunnel, rng.choice(found)
        return None

    return choose


def table(owned: Owned, rng: random.Random, used: set[str]) -> tuple[str, str] | None:
    """One of the topology's nft tables (family, name), if no other change of the batch
    touches one."""
    if not owned.tables or "nft" in used:
        return None
    used.add("nft")
    return rng.choice(sorted(owned.tables))
