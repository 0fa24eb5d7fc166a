"""Generated overlays on the two lab hosts, changed to a neighbour (containers moved to
the other host, another VNI, static addresses or not, an overlay gone:
tests/topology_strategies.py), over SSH: each apply converges (its plan is then empty)
and every container reaches every other one on each overlay they share, on its host
and across the tunnel (`ping` inside the lab hosts, addresses read with `ip -j`)."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from providers.lab import Lab
from tests.e2e.hostview import netplan
from tests.fuzzing import fuzz
from tests.multihost.labview import host_json, netns_names, ping
from tests.topology_strategies import overlay_topologies


@fuzz(3, long=30)
@given(pair=st.data())
def test_a_generated_overlay_change_converges_and_reaches_across(
    lab: Lab, pair: st.DataObject
) -> None:
    first = pair.draw(overlay_topologies(most_hosts=2))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "topology.yaml"
        try:
            for data in (first, pair.draw(overlay_topologies(like=first))):
                path.write_text(yaml.safe_dump(data, sort_keys=False))
                result = netplan("apply", path, "-p", "lab", "--yes")
                assume(not (result.returncode == 1 and "is already in use" in result.stderr))
                assert result.returncode == 0, result.stderr
                assert netplan("plan", path, "-p", "lab", "--detailed-exitcode").returncode == 0
                assert_everyone_reaches_everyone(lab, data)
        finally:
            netplan("destroy", path, "-p", "lab", "--yes", check=True)
    for host in lab.hosts:
        assert not netns_names(lab, host)


def assert_everyone_reaches_everyone(lab: Lab, data: dict[str, Any]) -> None:
    """Each pair of containers sharing an overlay pings both ways, with the addresses
    `ip -j` shows inside their namespaces."""
    for network in data["networks"]:
        on = {name: spec["host"] for name, spec in data["containers"].items()
              if network in spec["networks"]}  # fmt: skip
        address = {name: _address(lab, host, name, _interface(data, name, network))
                   for name, host in on.items()}  # fmt: skip
        for a, b in itertools.permutations(on, 2):
            assert ping(lab, on[a], a, address[b]), f"{a} on {on[a]} does not reach {b} on {on[b]}"


def _interface(data: dict[str, Any], container: str, network: str) -> str:
    """eth0, eth1, ... in the order of the container's networks."""
    return f"eth{list(data['containers'][container]['networks']).index(network)}"


def _address(lab: Lab, host: str, netns: str, dev: str) -> str:
    (link,) = host_json(lab, host, "ip", "-n", netns, "-j", "address", "show", "dev", dev)
    return next(a["local"] for a in link["addr_info"] if a["family"] == "inet")
