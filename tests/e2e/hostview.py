"""Independent observers: the CLI as a user runs it, iproute2's and nft's own JSON, ping."""

from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
TOPOLOGIES = REPO / "topologies"

Run = Callable[..., subprocess.CompletedProcess[str]]


def netplan(*args: str | Path, check: bool = False) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "netplan", *map(str, args)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"netplan {' '.join(map(str, args))} exited {result.returncode}\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def ip_json(*args: str) -> Any:
    out = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out) if out.strip() else []


def inet(netns: str, dev: str) -> list[str]:
    """The IPv4 addresses (CIDR) of `dev` in `netns` ('' for the root namespace)."""
    where = ["-n", netns] if netns else []
    return [f"{a['local']}/{a['prefixlen']}"
            for link in ip_json(*where, "address", "show", "dev", dev)
            for a in link["addr_info"] if a["family"] == "inet"]  # fmt: skip


def netns_names() -> set[str]:
    return {entry["name"] for entry in ip_json("netns", "list")}


def ping(netns: str, address: str) -> bool:
    result = subprocess.run(
        ["ip", "netns", "exec", netns, "ping", "-c", "1", "-W", "1", address],
        capture_output=True,
        text=True,
    )
    return result.returncode == 0


def etc_netns() -> list[str]:
    """Every file under /etc/netns (namespaces' hosts files and the like), relative."""
    root = Path("/etc/netns")
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.is_dir() else []


def snapshot() -> dict[str, Any]:
    """The host's own network, to compare before and after (statistics left out)."""
    state: dict[str, Any] = {
        "links": ip_json("-d", "link", "show"),
        "addresses": ip_json("address", "show"),
        "routes": ip_json("route", "show", "table", "all"),
        "rules": ip_json("rule", "show"),
        "netns": sorted(netns_names()),
        "etc_netns": etc_netns(),
    }
    for link in state["links"]:
        link.pop("operstate", None)
        for part in ("info_data", "info_slave_data"):
            info = link.get("linkinfo", {}).get(part, {})
            for key in [k for k in info if k.endswith("_timer")]:
                del info[key]  # bridge and bridge-port timers tick on their own
    if shutil.which("nft"):
        out = subprocess.run(["nft", "-j", "list", "ruleset"], capture_output=True, text=True)
        state["nftables"] = json.loads(out.stdout)["nftables"][1:] if out.stdout else []
    return state


def settled_snapshot(timeout: float = 30.0) -> dict[str, Any]:
    """A snapshot once the kernel has stopped changing it: IPv6 duplicate address
    detection done (nothing tentative) and the same state for a whole second."""
    deadline = time.monotonic() + timeout
    previous = snapshot()
    while time.monotonic() < deadline:
        time.sleep(1.0)
        current = snapshot()
        tentative = any(
            a.get("tentative") for link in current["addresses"] for a in link["addr_info"]
        )
        if current == previous and not tentative:
            return current
        previous = current
    raise AssertionError("the host network did not settle")


def assert_returns_to(before: dict[str, Any], timeout: float = 15.0) -> None:
    """The host network comes back to `before` within `timeout`: the kernel destroys a
    deleted namespace in the background, and a device something still holds (a neighbour
    entry waiting out its ARP probes holds a macvlan, whose parent stays promiscuous)
    goes seconds later. A state that only stops changing is not enough (settled_snapshot)."""
    deadline = time.monotonic() + timeout
    after = snapshot()
    while after != before and time.monotonic() < deadline:
        time.sleep(0.2)
        after = snapshot()
    assert_unchanged(before, after)


def assert_unchanged(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Equal snapshots, or a readable diff of what changed."""
    if before == after:
        return
    report = []
    for key in before.keys() | after.keys():
        old = json.dumps(before.get(key), indent=1, sort_keys=True).splitlines()
        new = json.dumps(after.get(key), indent=1, sort_keys=True).splitlines()
        report += difflib.unified_diff(old, new, f"{key} before", f"{key} after", lineterm="")
    raise AssertionError("the host network changed:\n" + "\n".join(report[:80]))


def sh(*commands: str) -> None:
    """Shell lines run one after the other (what a person would type); each must succeed."""
    for command in commands:
        subprocess.run(command, shell=True, check=True)


def assert_drift_repaired(run: Run, path: Path, change: str, reported: str) -> None:
    """After the shell line `change`, check exits 2 naming the drift (`reported`, a regular
    expression), one apply repairs it, and check exits 0 again."""
    sh(change)
    drift = run("check", path)
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert re.search(reported, drift.stdout), drift.stdout
    run("apply", path, "--yes", check=True)
    assert run("check", path).returncode == 0


def bridge_topology(path: Path, name: str, containers: list[str]) -> Path:
    """`containers` on one bridge network, br-tx."""
    path.write_text(yaml.safe_dump({
        "name": name,
        "networks": {"front": {"driver": "bridge", "bridge": "br-tx", "subnet": "10.77.0.0/16"}},
        "containers": {c: {"networks": ["front"]} for c in containers},
    }))  # fmt: skip
    return path
