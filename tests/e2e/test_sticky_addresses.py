"""An address changed with `ip` behind netplan's back is drift, and apply puts the applied
one back: IPAM keeps the addresses of the last-applied record (Facts.addresses), not the
ones the containers have now. Checked with `ip -j`, not netplan's observer."""

from __future__ import annotations

import json

import pytest

from tests.e2e.hostview import TOPOLOGIES, Run, ip_json, ping, sh

DEFAULT_BRIDGE = TOPOLOGIES / "default-bridge.yaml"
pytestmark = pytest.mark.usefixtures("clean_host")


def inet(netns: str, dev: str) -> list[str]:
    return [f"{a['local']}/{a['prefixlen']}"
            for link in ip_json("-n", netns, "address", "show", "dev", dev)
            for a in link["addr_info"] if a["family"] == "inet"]  # fmt: skip


def mac(netns: str, dev: str) -> str:
    address: str = ip_json("-n", netns, "link", "show", "dev", dev)[0]["address"]
    return address


def test_a_hand_changed_address_is_drift_and_apply_restores_it(run: Run) -> None:
    assert run("apply", DEFAULT_BRIDGE, "--yes").returncode == 0
    assert inet("alpine1", "eth0") == ["172.17.0.2/16"]
    before = mac("alpine1", "eth0")
    sh("ip -n alpine1 address del 172.17.0.2/16 dev eth0 && "
       "ip -n alpine1 address add 172.17.0.200/16 dev eth0")

    checked = run("check", DEFAULT_BRIDGE, "--format", "json")
    assert checked.returncode == 2, checked.stderr
    differences = json.loads(checked.stdout)["hosts"]["local"]["differences"]
    classes = {d["key"]: d["classes"] for d in differences}
    assert classes["addr:alpine1/eth0/172.17.0.2/16"] == ["drift"]
    assert classes["addr:alpine1/eth0/172.17.0.200/16"] == ["drift"]
    assert all(c == ["drift"] for c in classes.values()), classes  # nothing pending
    assert not any(k.startswith("hosts:") or k.startswith("link:") for k in classes), classes

    assert run("apply", DEFAULT_BRIDGE, "--yes").returncode == 0
    assert inet("alpine1", "eth0") == ["172.17.0.2/16"]
    assert mac("alpine1", "eth0") == before
    with open("/etc/netns/alpine2/hosts") as hosts:
        assert "172.17.0.2 alpine1" in hosts.read().splitlines()
    assert ping("alpine2", "172.17.0.2")
    assert run("plan", DEFAULT_BRIDGE, "--detailed-exitcode").returncode == 0


def test_a_deleted_address_comes_back_though_another_container_took_it(run: Run) -> None:
    """alpine2 moved onto alpine1's address, alpine1's deleted: both get their own back."""
    assert run("apply", DEFAULT_BRIDGE, "--yes").returncode == 0
    sh("ip -n alpine1 address del 172.17.0.2/16 dev eth0 && "
       "ip -n alpine2 address del 172.17.0.3/16 dev eth0 && "
       "ip -n alpine2 address add 172.17.0.2/16 dev eth0")
    assert run("check", DEFAULT_BRIDGE).returncode == 2
    assert run("apply", DEFAULT_BRIDGE, "--yes").returncode == 0
    assert inet("alpine1", "eth0") == ["172.17.0.2/16"]
    assert inet("alpine2", "eth0") == ["172.17.0.3/16"]
    assert ping("alpine1", "172.17.0.3")
    assert run("plan", DEFAULT_BRIDGE, "--detailed-exitcode").returncode == 0
