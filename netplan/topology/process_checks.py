"""Checks of the containers that run a process, across their fields (run by checks.py)."""

from __future__ import annotations

from collections.abc import Iterator

from netplan.errors import Problem
from netplan.topology.model import Topology
from netplan.topology.positions import dotted
from netplan.topology.process_fields import Volume

NEEDS_COMMAND = ("volumes", "restart", "stop_timeout")
"""Fields that only mean something for a container that runs a process."""


def check_hostname_mode(topology: Topology) -> Iterator[Problem]:
    """`container:X` shares X's hostname, as Docker's "conflicting options: hostname and
    the network mode" says."""
    for name, container in topology.containers.items():
        target = container.shares_with
        if target is not None and container.hostname is not None:
            yield Problem(
                f"a container in network_mode 'container:{target}' cannot set a hostname",
                dotted(("containers", name, "hostname")),
                f"it has the hostname of '{target}': set it there, or remove `hostname:`",
            )


def check_process_fields(topology: Topology) -> Iterator[Problem]:
    """volumes, restart and stop_timeout need a command; a container path is mounted once."""
    for name, container in topology.containers.items():
        if container.command is None:
            given = container.model_fields_set
            for field in NEEDS_COMMAND:
                if field in given:
                    yield Problem(
                        f"`{field}` needs a process: the container has no command",
                        dotted(("containers", name, field)),
                        "add `command:`, or remove the field",
                    )
            continue
        seen: dict[str, int] = {}
        for index, text in enumerate(container.volumes):
            target = Volume.parse(text).target
            if target in seen:
                yield Problem(
                    f"container path {target} is also mounted by volume {seen[target] + 1}",
                    dotted(("containers", name, "volumes", index)),
                    "mount each container path once",
                )
            seen.setdefault(target, index)
