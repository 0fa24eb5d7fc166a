"""`netplan exec`: a command inside a container's namespaces, like `docker exec`.

The controller says what the container is (its namespace, hostname, env, workdir, from
the file); the host's side (netplan/agent/exec_in.py) finds whether its process runs and
enters it. Locally that runs in this process; over SSH on a channel of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from netplan.container_target import ContainerTarget
from netplan.logs import read
from netplan.processes import environment, hostname_of, netns_of


def exec_spec(target: ContainerTarget, file: Path, argv: list[str]) -> dict[str, Any]:
    """What the host's side needs; `file` only for a hint (`netplan apply FILE`)."""
    topology, name = target.topology, target.name
    container = topology.containers[name]
    return {
        "topology": topology.name,
        "container": name,
        "host": target.host,
        "file": str(file),
        "netns": netns_of(topology, name),
        "hostname": hostname_of(topology, name),
        "workdir": container.workdir or "/",
        "env": list(environment(container)),
        "argv": argv,
    }


def run_exec(file: Path, container: str, argv: list[str], provider: str,
             inventory: Path | None) -> int:
    """The command's exit code (125: netplan could not enter the container)."""
    target = ContainerTarget.find(file, container)
    host = target.connect(provider, inventory)
    try:
        read(host, target, None, 0)  # one agent call: over SSH it stores the agent if missing
        return host.exec_in(exec_spec(target, file, argv))
    finally:
        host.close()
