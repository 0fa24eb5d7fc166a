"""`netplan show` of a compiled state: what it writes back, and what it cannot see."""

from __future__ import annotations

from netplan.agent.state import HostState
from netplan.compile import compile_topology
from netplan.show import observed_topology
from netplan.topology.model import Topology

MODES = {
    "name": "modes",
    "networks": {"n": {"subnet": "10.0.0.0/24"}},
    "containers": {
        "web": {"networks": {"n": {"aliases": ["www"]}}, "command": "sleep 3600"},
        "side": {"network_mode": "container:web", "command": "sleep 3601"},
        "quiet": {"network_mode": "container:web"},
        "hostproc": {"network_mode": "host", "command": "sleep 3602"},
        "hostidle": {"network_mode": "host"},
    },
}


def test_show_names_host_and_container_modes_only_with_a_command() -> None:
    """As README says: a `host` or `container:` container without a command is not in
    the kernel, so not in `show`; one with a command is, with its mode. Aliases are, in
    the hosts files."""
    state = compile_topology(Topology.model_validate(MODES), {"local": HostState()})["local"]
    shown = observed_topology("modes", {"local": state})["containers"]
    assert shown == {
        "web": {"networks": {"n": {"ipv4": "10.0.0.2", "aliases": ["www"]}},
                "command": "sleep 3600"},
        "side": {"network_mode": "container:web", "command": "sleep 3601"},
        "hostproc": {"network_mode": "host", "command": "sleep 3602"},
    }
