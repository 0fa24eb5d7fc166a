"""What a place has, read with iproute2's, nft's and the file system's own tools: the
whole host network (to prove it byte-identical before and after), and the objects one
topology owns (to prove a destroy left none). Never netplan's own observer."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from tests.e2e.hostview import assert_unchanged
from tests.reliability.place import Place

MARKER = "netplan:{}"
PROCESS_TAG = "NETPLAN_RELIABILITY"
"""The environment variable every container process of a harness topology carries, so
that `ps` can find them whatever their PID or namespace. Its value (tag()) names the
topology and this run: processes are not confined to the sandbox, and another run's
(or another sandbox's) must not count."""
RUN = f"{os.getpid()}.{time.time_ns()}"


def tag(topology: str) -> str:
    return f"{topology}.{RUN}"

LINK_TIMERS = ("info_data", "info_slave_data")


def snapshot(place: Place) -> dict[str, Any]:
    """The place's own network, as tests/e2e/hostview.snapshot reads this machine's (timers
    and operational state left out), plus the files netplan keeps under /run/netplan."""
    links = place.json("ip", "-j", "-d", "link", "show")
    for link in links:
        link.pop("operstate", None)
        for part in LINK_TIMERS:
            info = link.get("linkinfo", {}).get(part, {})
            for key in [k for k in info if k.endswith("_timer")]:
                del info[key]
    ruleset = place.json("nft", "-j", "list", "ruleset")
    return {
        "links": links,
        "addresses": place.json("ip", "-j", "address", "show"),
        "routes": place.json("ip", "-j", "route", "show", "table", "all"),
        "rules": place.json("ip", "-j", "rule", "show"),
        "netns": sorted(n["name"] for n in place.json("ip", "-j", "netns", "list")),
        "etc_netns": files(place, "/etc/netns"),
        "run_netplan": netplan_files(place),
        "nftables": ruleset["nftables"][1:] if ruleset else [],
    }


def settled_snapshot(place: Place, timeout: float = 30.0) -> dict[str, Any]:
    """A snapshot once IPv6 duplicate address detection is done and nothing moved for
    half a second."""
    deadline = time.monotonic() + timeout
    previous = snapshot(place)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        current = snapshot(place)
        tentative = any(a.get("tentative") for link in current["addresses"]
                        for a in link["addr_info"])
        if current == previous and not tentative:
            return current
        previous = current
    raise AssertionError(f"{place.name}: the host network did not settle")


def files(place: Place, root: str, skip: str = "") -> dict[str, str]:
    """Every file and directory under `root`: a file by its SHA-256, a directory as '/'."""
    script = (f"[ -d {root} ] || exit 0; find {root} -mindepth 1 "
              f"{f'-path {skip} -prune -o' if skip else ''} -type d -printf '%p /\\n' -o "
              f"-type f -exec sha256sum {{}} + ")
    found: dict[str, str] = {}
    for line in place.sh(script).stdout.splitlines():
        if line.endswith(" /"):
            found[line[:-2]] = "/"
        elif line.strip():
            digest, path = line.split(None, 1)
            found[path.strip()] = digest
    return found


HOST_WIDE = ("/run/netplan/topologies", "/run/netplan/lock", "/run/netplan/lab.lock")
"""netplan's own, not a topology's: made once and kept (the directory that holds every
topology's, and the host and lab lock files, flock(2)ed, whose text names their last
holder)."""


def netplan_files(place: Place) -> dict[str, str]:
    """What is under /run/netplan but the lab's directory and HOST_WIDE."""
    found = files(place, "/run/netplan", skip="/run/netplan/lab")
    for path in HOST_WIDE:
        found.pop(path, None)
    return found


def assert_same_host(place: Place, before: dict[str, Any], after: dict[str, Any]) -> None:
    try:
        assert_unchanged(before, after)
    except AssertionError as error:
        raise AssertionError(f"{place.name}: {error}") from None


def owned(place: Place, topology: str) -> list[str]:
    """Every object `topology` owns at the place, each as one line saying what it is:
    links and namespaces carrying its marker, its nftables tables, hosts files written
    for it, its directory under /run/netplan, routes of protocol 77 on its links, and
    processes carrying its tag."""
    marker = MARKER.format(topology)
    found = []
    ours = set()
    for link in place.json("ip", "-j", "link", "show"):
        if str(link.get("ifalias", "")).startswith(marker):
            ours.add(link["ifname"])
            found.append(f"link {link['ifname']} ({link['ifalias']})")
    for route in place.json("ip", "-j", "route", "show", "table", "all", "proto", "77"):
        if route.get("dev") in ours:
            found.append(f"route {route['dst']} dev {route['dev']}")
    for netns in place.json("ip", "-j", "netns", "list"):
        lo = place.run("ip", "-n", netns["name"], "-j", "link", "show", "lo", check=False)
        if lo.returncode == 0 and json.loads(lo.stdout)[0].get("ifalias") == marker:
            found.append(f"netns {netns['name']}")
    tables = place.json("nft", "-j", "list", "tables")
    for entry in tables["nftables"] if tables else []:
        table = entry.get("table")
        if table and table["name"] == f"netplan_{topology}":
            found.append(f"nft table {table['family']} {table['name']}")
    for path, digest in files(place, "/etc/netns").items():
        text = place.read(path) if digest != "/" else ""
        if text and text.startswith(f"# {marker}"):
            found.append(f"hosts file {path}")
    if place.run("test", "-e", f"/run/netplan/topologies/{topology}", check=False).returncode == 0:
        found.append(f"directory /run/netplan/topologies/{topology}")
    found += [f"process {pid}" for pid in processes(place, topology)]
    return found


def processes(place: Place, topology: str | None = None) -> list[int]:
    """PIDs (as the place sees them) of live processes carrying the topology's tag, or
    with no topology, any tag of this run."""
    wanted = f"{PROCESS_TAG}={tag(topology)}" if topology else f"{PROCESS_TAG}=.*[.]{RUN}"
    script = ("for e in /proc/[0-9]*/environ; do "
              f"tr '\\0' '\\n' < $e 2>/dev/null | grep -qx '{wanted}' && echo ${{e%/environ}}; "
              "done; true")
    pids = []
    for line in place.sh(script).stdout.split():
        pid = int(line.removeprefix("/proc/"))
        state = place.run("cat", f"/proc/{pid}/stat", check=False).stdout
        if state and state.rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
            pids.append(pid)
    return pids
