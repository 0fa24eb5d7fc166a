"""`netplan show`: what the kernel has that a topology owns, found by its file or by its
name alone (`--name`, on every host the provider reaches)."""

from __future__ import annotations

import json

import yaml

from tests.e2e.hostview import TOPOLOGIES, netns_names, netplan

DEFAULT_BRIDGE = TOPOLOGIES / "default-bridge.yaml"


def test_show_by_file_and_by_name_alone() -> None:
    netplan("apply", DEFAULT_BRIDGE, "--yes", check=True)
    try:
        by_file = yaml.safe_load(netplan("show", DEFAULT_BRIDGE, check=True).stdout)
        by_name = yaml.safe_load(netplan("show", "--name", "default-bridge", check=True).stdout)
        assert by_name == by_file
        assert set(by_file["containers"]) == {"alpine1", "alpine2"} <= netns_names()
        assert by_file["networks"]["bridge"]["subnet"] == "172.17.0.0/16"
        shown = json.loads(netplan("show", "--name", "default-bridge", "--json", check=True).stdout)
        assert shown["topology"] == by_file
    finally:
        netplan("destroy", DEFAULT_BRIDGE, "--yes", check=True)
    after = netplan("show", "--name", "default-bridge")
    assert (after.returncode, after.stdout) == (1, "")
    assert after.stderr == ("error: topology 'default-bridge' has nothing on local: never "
                            "applied there, or destroyed (hint: check the name)\n")

