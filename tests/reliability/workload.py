"""The topologies the harnesses apply, break and repair: mid-size, with every kind of
object netplan owns on a host (bridges, veths, addresses, routes, the nftables table with
published ports and icc off, sysctls, hosts files, a process; on the lab also VXLAN
devices with their FDB and neighbour entries)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.reliability.census import PROCESS_TAG, tag

LAB_HOSTS = ("hostA", "hostB", "hostC")


def web(name: str, networks: list[str], host: str | None = None) -> dict[str, Any]:
    """A container running a web server on published ports, tagged for `ps`."""
    spec: dict[str, Any] = {
        "networks": networks,
        "command": ["python3", "-m", "http.server", "8000", "--directory", "/usr/share/doc"],
        "env": {PROCESS_TAG: tag(name)},
        "restart": "always",
        "publish": ["18080:8000/tcp", "127.0.0.1:18081:8000"],
    }
    return {"host": host, **spec} if host else spec


def local_topology(name: str, containers: int = 20) -> dict[str, Any]:
    """Two bridges (one with icc off), `containers` containers, one of them a web server."""
    members = {f"c{index:02d}": {"networks": ["front" if index % 2 else "back"]}
               for index in range(1, containers)}
    return {
        "name": name,
        "networks": {
            "front": {"subnet": "10.61.0.0/24"},
            "back": {"subnet": "10.62.0.0/24", "icc": False},
        },
        "containers": {"web": web(name, ["front", "back"]), **members},
    }


def lab_topology(name: str, per_host: int = 3) -> dict[str, Any]:
    """An overlay across the lab's three hosts and a bridge on each; `per_host` containers
    on each, and a web server on hostB on both."""
    networks: dict[str, Any] = {"ov": {"driver": "overlay", "subnet": "10.90.0.0/24"}}
    containers: dict[str, Any] = {}
    for index, host in enumerate(LAB_HOSTS):
        networks[f"lan{index}"] = {"host": host, "subnet": f"10.91.{index}.0/24"}
        for number in range(per_host):
            network = "ov" if number % 2 == 0 else f"lan{index}"
            containers[f"{host.lower()}-{number}"] = {"host": host, "networks": [network]}
    containers["web"] = web(name, ["ov", "lan1"], host="hostB")
    return {"name": name, "hosts": list(LAB_HOSTS), "networks": networks,
            "containers": containers}


def write(path: Path, topology: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(topology, sort_keys=False))
    return path
