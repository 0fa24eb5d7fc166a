"""The processes inside a container are never looked for in the agent's own namespaces:
a container's process that entered the host's mount namespace (or a `host` mode
container's network namespace, the host's) must not make every process of the host its
own."""

from __future__ import annotations

import subprocess

from netplan.agent import inside


def test_the_agents_own_namespaces_are_never_a_containers() -> None:
    neighbour = subprocess.Popen(["sleep", "60"])
    try:
        files = [("mnt", "/proc/self/ns/mnt"), ("net", "/proc/self/ns/net"),
                 ("net", f"/proc/{neighbour.pid}/ns/net")]
        with inside.held(files) as namespaces:
            assert namespaces == frozenset()
            assert inside.processes(namespaces) == {}
    finally:
        neighbour.kill()
        neighbour.wait()


def test_a_namespace_file_that_is_gone_is_left_out() -> None:
    with inside.held([("net", "/run/netns/surely-not-a-namespace-here")]) as namespaces:
        assert namespaces == frozenset()
