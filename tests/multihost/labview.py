"""Looking into lab hosts from outside: their namespaces entered by PID, and topologies to apply."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from providers.lab import Lab


def in_host(lab: Lab, host: str, *command: str) -> subprocess.CompletedProcess[str]:
    """Run a command in all of the host's namespaces (as if logged in)."""
    pid = str(lab.hosts[host].process.pid)
    return subprocess.run(
        ["nsenter", "-t", pid, "-a", "--", *command],
        capture_output=True,
        text=True,
        timeout=60,
    )


def host_json(lab: Lab, host: str, *command: str) -> Any:
    result = in_host(lab, host, *command)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else []


def netns_names(lab: Lab, host: str) -> set[str]:
    return {entry["name"] for entry in host_json(lab, host, "ip", "-j", "netns", "list")}


def links(lab: Lab, host: str, netns: str | None = None) -> dict[str, dict[str, Any]]:
    where = ["-n", netns] if netns else []
    return {link["ifname"]: link for link in host_json(lab, host, "ip", *where, "-j", "-d", "link")}


def addresses(lab: Lab, host: str, netns: str, dev: str) -> set[str]:
    (link,) = host_json(lab, host, "ip", "-n", netns, "-j", "address", "show", "dev", dev)
    return {f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"] if a["family"] == "inet"}


def netns_inode(lab: Lab, host: str, netns: str) -> int:
    """The inode of the host's /run/netns/<netns>: its network namespace's identity."""
    result = in_host(lab, host, "stat", "-L", "-c", "%i", f"/run/netns/{netns}")
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


def ping(lab: Lab, host: str, netns: str, address: str) -> bool:
    command = ("ip", "netns", "exec", netns, "ping", "-c", "1", "-W", "1", address)
    return in_host(lab, host, *command).returncode == 0


def write_topology(path: Path, name: str, containers: dict[str, int]) -> Path:
    """A bridge network on each host (the same subnet and bridge name everywhere) and
    `containers[host]` containers on it, named `<host>-c<i>`."""
    topology: dict[str, Any] = {
        "name": name,
        "hosts": {host: {} for host in containers},
        "networks": {
            f"net-{host}": {"host": host, "subnet": "10.77.0.0/16", "bridge": "br-lab"}
            for host in containers
        },
        "containers": {
            f"{host}-c{index}": {"host": host, "networks": [f"net-{host}"]}
            for host, count in containers.items()
            for index in range(count)
        },
    }
    path.write_text(yaml.safe_dump(topology, sort_keys=False))
    return path


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2] != "Z"
