"""What a container that runs a process becomes on its host: a Process resource, in the
namespace it shares (its own, X's in `container:X` mode, the host's in `host` mode).

Pure, like the rest of the compiler. A volume's host path must exist on the container's
host, and so must its container path (a container shares its host's file system, and
netplan creates nothing on it), which only the host can tell: the agent reports the host
paths it is asked about (HostState.facts.paths, asked for by `volume_paths`), and a
missing one is a TopologyError before anything is changed.
"""

from __future__ import annotations

from typing import Any

from netplan.agent.resources import ROOT, Process
from netplan.agent.state import HostState
from netplan.drivers.base import Context
from netplan.errors import Problem, TopologyError
from netplan.topology.model import Container, Topology
from netplan.topology.positions import child
from netplan.topology.process_fields import Volume, argv


def owner_of_namespace(topology: Topology, name: str) -> str:
    """The container whose namespace `name` runs in: itself, or the end of its
    `container:` chain."""
    seen = {name}
    while (target := topology.containers[name].shares_with) is not None and target not in seen:
        seen.add(target)
        name = target
    return name


def netns_of(topology: Topology, name: str) -> str:
    """The named namespace a container's process enters; ROOT in `host` mode."""
    owner = owner_of_namespace(topology, name)
    return ROOT if topology.containers[owner].network_mode == "host" else owner


def hostname_of(topology: Topology, name: str) -> str:
    """Its `hostname`, else its name, as Docker names it; `container:X` takes X's (it
    cannot set one); `host` mode keeps the host's (empty)."""
    owner = owner_of_namespace(topology, name)
    container = topology.containers[owner]
    if container.hostname is not None:
        return container.hostname
    return "" if container.network_mode == "host" else owner


def environment(container: Container) -> tuple[str, ...]:
    return tuple(f"{key}={value}" for key, value in sorted(container.env.items()))


def process_of(topology: Topology, name: str) -> Process | None:
    container = topology.containers[name]
    if container.command is None:
        return None
    return Process(
        container=name,
        netns=netns_of(topology, name),
        argv=argv(container.command),
        env=environment(container),
        workdir=container.workdir or "/",
        hostname=hostname_of(topology, name),
        volumes=tuple(str(Volume.parse(text)) for text in container.volumes),
        restart=container.restart,
        stop_timeout=container.stop_timeout,
        running=True if container.restart == "always" else None,
    )


def volume_paths(topology: Topology, host: str) -> list[str]:
    """The paths the agent of `host` must report on: both ends of its containers' volumes."""
    paths = {
        path
        for name, container in topology.containers.items()
        if container.command is not None and topology.host_of_container(name) == host
        for text in container.volumes
        for path in (Volume.parse(text).source, Volume.parse(text).target)
    }
    return sorted(paths)


def compile_processes(context: Context) -> None:
    """A Process per container with a command, on every observed host; a TopologyError
    naming host, container and path for each volume path its host does not have."""
    topology = context.topology
    problems = []
    for name, container in topology.containers.items():
        process = process_of(topology, name)
        host = context.host_of(name)
        if process is None or host not in context.observed:
            continue
        found = context.observed[host].facts.paths
        for index, text in enumerate(container.volumes):
            volume = Volume.parse(text)
            where = child(f"containers.{name}.volumes", index)
            if found.get(volume.source) == "missing":
                problems.append(Problem(
                    f"host '{host}' has no {volume.source} (the host path of a volume of "
                    f"container '{name}')", where,
                    f"create {volume.source} on host '{host}', or change the volume"))
            if found.get(volume.target) == "missing":
                problems.append(Problem(
                    f"host '{host}' has no {volume.target} (the container path of a volume "
                    f"of container '{name}': a container shares its host's file system, "
                    "so the path must exist there)", where,
                    f"create {volume.target} on host '{host}', or mount on an existing path"))
        context.desired[host].add(process)
    if problems:
        raise TopologyError(problems)


def shown_processes(state: HostState, containers: dict[str, dict[str, Any]],
                    host: str | None) -> None:
    """Write observed processes back as container fields (`netplan show`): defaults left
    out, `host` and `container:X` modes named (those containers have no namespace)."""
    for process in state.resources.values():
        if not isinstance(process, Process):
            continue
        spec = containers.setdefault(process.container, {} if host is None else {"host": host})
        if process.netns == ROOT:
            spec["network_mode"] = "host"
        elif process.netns != process.container:
            spec["network_mode"] = f"container:{process.netns}"
        shell = process.argv[:2] == ("/bin/sh", "-c") and len(process.argv) == 3
        spec["command"] = process.argv[2] if shell else list(process.argv)
        if process.env:
            spec["env"] = dict(item.split("=", 1) for item in process.env)
        if process.workdir != "/":
            spec["workdir"] = process.workdir
        default = "" if process.netns == ROOT else process.netns
        if process.hostname != default and process.netns == process.container:
            spec["hostname"] = process.hostname
        if process.volumes:
            spec["volumes"] = [v.removesuffix(":rw") for v in process.volumes]
        if process.restart != "no":
            spec["restart"] = process.restart
        if process.stop_timeout != 10:
            spec["stop_timeout"] = process.stop_timeout
