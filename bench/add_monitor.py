"""An independent observer of the incremental add: every rtnetlink change notification the
kernel sends while one container is added, recorded by `ip -o monitor label all-nsid all`
in the sandbox's root namespace and attributed to the object it names.

Untimed (a monitor process costs CPU): apply_bench runs it after the timed rounds of a size.
A bridge `MARKER` (down, no ports) frames the add: its MTU is changed until the monitor
shows it (so the monitor has subscribed before the add starts), and it is deleted after the
add once the kernel has been quiet for QUIET seconds (linkwatch sends operstate changes up
to a second late); its `Deleted` line shows that every earlier notification was read.

All groups (`all`), not only link, address and route: `neigh` carries the bridge's
forwarding entry for a new port and would show static neighbour entries written for other
containers (traffic-driven ARP entries could be noise, but nothing sends traffic in the
sandbox); `netconf` carries the IPv4/IPv6 settings of each new device and would show a
forwarding sysctl written for every device; `nsid` shows the id the root gives the new
namespace. Each is attributed like the others and listed if it is not the new container's.

What is seen: the root namespace and every namespace with an nsid in it. A namespace made
by the add gets one only when its veth's host end is created (the kernel reports the peer's
namespace), so what happens inside it before (netplan: `lo`'s marker and up, with 127.0.0.1,
::1 and their local routes) is not seen. Not rtnetlink, so not seen: nftables, sysctls that
change no device setting, and files (the hosts files, /etc/netns/*/hosts).

`ip monitor` prints a device given by index (routes, addresses, neighbours, netconf) with
the first name it learnt for that index, from a link notification of whichever namespace or
from the root, until that index is deleted (iproute2's ll_remember_index keeps an entry's
name): `[nsid 3][ADDR]2: br-bench ... eth0` is eth0, index 2 of namespace 3, and a root
line may show a name from another namespace. So each printed name is mapped back to the
index it was paired with (the root's links, the index and name of every link and address
line), and the device is named from a dump of the line's own namespace. nsids are printed
with the root's names too (`[nsid 3][NSID]nsid 0 (iproute2 netns name: c0)` is namespace
3's id for the root).
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from ipbatch import Container, run

MARKER = "addmon0"
MONITOR = ["ip", "-o", "monitor", "label", "all-nsid", "all"]
QUIET = 1.5
"""Seconds without a notification after the add before it counts as finished."""
WAIT = 20.0
"""Longest wait for the monitor to subscribe, for the kernel to go quiet, for the marker."""
ROOT = "root"
NEW, BRIDGE, OTHER = "new container", "its bridge", "other"
LINE = re.compile(r"^\[nsid (\w+)\]\[(\w+)\](.*)$")
INDEXED = re.compile(r"^(?:Deleted )?(\d+): ([^:@\s]+)")
"""LINK and ADDR lines: `IFINDEX: NAME` (the link's own name in LINK, ip's name for the
index in ADDR)."""
DEV = re.compile(r"\bdev (\S+)")
NETCONF = re.compile(r"^(?:Deleted )?\S+ (\S+)")
NSID = re.compile(r"nsid (\d+)")
ETHER = re.compile(r"link/ether (\S+)")
MTU = re.compile(r"\bmtu (\d+)")


class MonitorError(RuntimeError):
    """The monitor did not subscribe, or its end marker did not show."""


@dataclass(frozen=True)
class Notice:
    """One notification: where it comes from, its kind, the device (or namespace) it names,
    whose object that is (NEW, BRIDGE or OTHER) and the line as printed."""

    namespace: str
    kind: str
    device: str
    owner: str
    text: str


class Monitor:
    """`ip monitor` running, its lines collected by a thread."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.last = time.monotonic()
        self.proc = subprocess.Popen(
            MONITOR, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.last = time.monotonic()
                self.changed.notify_all()

    def wait_for(self, seen: Callable[[str], bool], start: int, timeout: float) -> int | None:
        """Index of the first line from `start` on for which `seen` holds (None: timeout)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = next((i for i in range(start, len(self.lines)) if seen(self.lines[i])),
                             None)
                left = deadline - time.monotonic()
                if found is not None or left <= 0:
                    return found
                self.changed.wait(left)

    def wait_quiet(self) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            with self.changed:
                idle = time.monotonic() - self.last
            if idle >= QUIET:
                return
            time.sleep(QUIET - idle)

    def stop(self) -> str:
        """End the monitor (the process this started, by its handle); its stderr (a few
        lines at most: ip reports an error and stops)."""
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.reader.join(timeout=10)
        assert self.proc.stderr is not None
        with self.proc.stderr:
            return self.proc.stderr.read().strip()


def _marker_link(line: str, deleted: bool = False) -> bool:
    match = LINE.match(line)
    if not match or match[1] != "current" or match[2] != "LINK":
        return False
    body = match[3]
    named = INDEXED.match(body)
    return bool(named and named[2] == MARKER and body.startswith("Deleted ") == deleted)


@contextmanager
def watching() -> Iterator[tuple[Monitor, list[int]]]:
    """The monitor, subscribed (the marker's change seen), and [first, end): the window of
    its lines, whose end is set when the block is left (the marker's deletion seen)."""
    monitor: Monitor | None = None
    window = [0, -1]
    errors = ""
    try:
        run(["ip", "link", "add", MARKER, "type", "bridge"])
        monitor = Monitor()
        for attempt in range(int(WAIT / 0.1)):
            run(["ip", "link", "set", MARKER, "mtu", str(1400 + attempt % 2)])
            seen = monitor.wait_for(_marker_link, 0, 0.1)
            if seen is not None:
                window[0] = seen + 1
                break
        else:
            raise MonitorError(f"`{' '.join(MONITOR)}` showed no change of {MARKER}")
        yield monitor, window
    finally:
        subprocess.run(["ip", "link", "del", MARKER], capture_output=True, timeout=60)
        if monitor is not None:
            end = monitor.wait_for(lambda line: _marker_link(line, deleted=True), window[0],
                                   WAIT)
            window[1] = -1 if end is None else end
            errors = monitor.stop()
    if window[1] < 0:
        raise MonitorError(f"the deletion of {MARKER} did not show: notifications may be lost")
    if errors:
        raise MonitorError(f"ip monitor reported: {errors[:300]}")


def _json(argv: list[str]) -> Any:
    return json.loads(run(argv) or "[]")


def _links(netns: str) -> dict[int, str]:
    argv = ["ip", "-j", "link", "show"] if netns == ROOT else ["ip", "-n", netns, "-j", "link",
                                                                "show"]
    return {link["ifindex"]: link["ifname"] for link in _json(argv)}


@dataclass
class Names:
    """What ip monitor's numbers stand for, read after the add: nsid → namespace name, and
    each namespace's index → device name (the root's read now, the others' when needed)."""

    namespaces: dict[int, str]
    links: dict[str, dict[int, str]]

    @classmethod
    def read(cls) -> Names:
        """From `ip -j netns list` (each name's id): `ip netns list-id` (iproute2 6.1)
        stops after the first 134 of 1,001 ids."""
        ids = {item["id"]: item["name"] for item in _json(["ip", "-j", "netns", "list"])
               if "id" in item}
        return cls(ids, {ROOT: _links(ROOT)})

    def namespace(self, nsid: str) -> str:
        return ROOT if nsid == "current" else self.namespaces.get(int(nsid), f"nsid {nsid}")

    def by_index(self, netns: str, index: int) -> str:
        if netns not in self.links:
            try:
                self.links[netns] = _links(netns)
            except (OSError, RuntimeError):
                self.links[netns] = {}
        return self.links[netns].get(index, f"ifindex {index}")


class Printed:
    """Which index a device name printed by ip monitor stands for: the one index the name
    was ever paired with, in the root's links or in a link or address line."""

    def __init__(self, root: dict[int, str], lines: list[str]) -> None:
        self.indexes: dict[str, set[int]] = {}
        pairs = list(root.items())
        for line in lines:
            match = LINE.match(line)
            if match and match[2] in ("LINK", "ADDR") and (indexed := INDEXED.match(match[3])):
                pairs.append((int(indexed[1]), indexed[2]))
        for index, name in pairs:
            self.indexes.setdefault(name, set()).add(index)

    def index(self, printed: str) -> int | None:
        if unnamed := re.fullmatch(r"if(\d+)", printed):
            return int(unnamed[1])
        found = self.indexes.get(printed, set())
        return next(iter(found)) if len(found) == 1 else None


def _device(kind: str, body: str, netns: str, names: Names, printed: Printed) -> str:
    """The device a line names, as its own namespace calls it ("nsid of NS" for the root's
    id of a namespace; "" if none)."""
    if kind == "NSID":
        match = NSID.search(body)
        if netns != ROOT or not match:
            return "nsid"
        return f"nsid of {names.namespaces.get(int(match[1]), match[1])}"
    if kind in ("LINK", "ADDR") and (indexed := INDEXED.match(body)):
        return indexed[2] if kind == "LINK" else names.by_index(netns, int(indexed[1]))
    pattern = {"NETCONF": NETCONF, "ROUTE": DEV, "NEIGH": DEV}.get(kind)
    if not (named := pattern.search(body) if pattern else None):
        return ""
    index = printed.index(named[1])
    return f"{named[1]} (as printed)" if index is None else names.by_index(netns, index)


def _owner(netns: str, device: str, new: Container) -> str:
    if netns == new.name:
        return NEW
    if netns != ROOT:
        return OTHER
    if device in (new.veth, f"nsid of {new.name}"):
        return NEW
    return BRIDGE if device == new.network.bridge else OTHER


def attribute(lines: list[str], window: list[int], names: Names, new: Container) -> list[Notice]:
    """The lines of the window as notices, the marker's own left out (all lines are read
    for the names ip printed)."""
    printed = Printed(names.links[ROOT], lines)
    notices = []
    for line in lines[window[0]:window[1]]:
        match = LINE.match(line)
        if not match:
            notices.append(Notice("?", "?", "", OTHER, line))
            continue
        netns, kind, body = names.namespace(match[1]), match[2], match[3]
        device = _device(kind, body, netns, names, printed)
        if netns == ROOT and device == MARKER:
            continue
        notices.append(Notice(netns, kind, device, _owner(netns, device, new), line))
    return notices


def bridge_changes(notices: list[Notice], before: dict[str, Any], new_mac: str | None) -> str:
    """What the bridge's own link notices show changed against `before` (its `ip -j link`
    entry before the add): MAC (saying whether it became the new port's), MTU."""
    changes: list[str] = []
    for notice in notices:
        if notice.owner != BRIDGE or notice.kind != "LINK":
            continue
        mac, mtu = ETHER.search(notice.text), MTU.search(notice.text)
        if mac and mac[1] != before.get("address"):
            whose = " = the new port's" if mac[1] == new_mac else ""
            changes.append(f"MAC {before.get('address')} -> {mac[1]}{whose}")
        if mtu and int(mtu[1]) != before.get("mtu"):
            changes.append(f"MTU {before.get('mtu')} -> {mtu[1]}")
    return ", ".join(dict.fromkeys(changes))


def observe_add(add: Callable[[], None], new: Container) -> dict[str, Any]:
    """Run `add` (which makes container `new`) under the monitor; the counts and the
    notices, attributed."""
    [bridge] = _json(["ip", "-j", "link", "show", "dev", new.network.bridge])
    with watching() as (monitor, window):
        add()
        monitor.wait_quiet()
        names = Names.read()
        [veth] = _json(["ip", "-j", "link", "show", "dev", new.veth])
    peer = names.namespaces.get(veth.get("link_netnsid", -1))
    if peer != new.name:
        raise MonitorError(f"{new.veth}'s peer namespace is {peer!r} by its nsid, not {new.name}")
    notices = attribute(monitor.lines, window, names, new)
    owners = Counter(n.owner for n in notices)
    return {
        "notifications": len(notices),
        "new_container": owners[NEW],
        "bridge": owners[BRIDGE],
        "other": owners[OTHER],
        "bridge_changes": bridge_changes(notices, bridge, veth.get("address")),
        "objects": {owner: dict(Counter(f"{n.namespace}/{n.device or n.kind.lower()}"
                                        for n in notices if n.owner == owner))
                    for owner in (NEW, BRIDGE, OTHER) if owners[owner]},
        "kinds": dict(Counter(n.kind for n in notices)),
        "notices": [asdict(n) for n in notices],
    }
