"""An address changed with `ip` behind netplan's back is drift, and apply puts the applied
one back: IPAM keeps the addresses of the last-applied record (Facts.addresses), not the
ones the containers have now; a static address that would take one is refused. Checked
with `ip -j`, not netplan's observer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.hostview import (
    TOPOLOGIES,
    Run,
    assert_unchanged,
    inet,
    ip_json,
    netns_names,
    ping,
    sh,
    snapshot,
)

DEFAULT_BRIDGE = TOPOLOGIES / "default-bridge.yaml"
pytestmark = pytest.mark.usefixtures("clean_host")


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


STICKY = """\
name: sticky
networks:
  net: {subnet: 10.44.0.0/24}
containers:
"""


def assert_in_use(run: Run, path: Path, refusal: str) -> None:
    """plan and apply of `path` stop with one line: `refusal`, then that container 'c'
    keeps it, and the hint."""
    for command in ("plan", "apply"):
        refused = run(command, path, *(["--yes"] if command == "apply" else []))
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert refused.stderr.splitlines() == [
            f"error: {refusal}, which keeps it (hint: choose another address, give 'c' a "
            "static address too, or remove 'c' from the file)"]


def test_a_static_address_another_container_was_given_is_refused(run: Run, tx: Path) -> None:
    """a, b, c get .2, .3, .4; b leaves and d comes (.3). A new container e asking for
    c's .4 is refused at its address's place, as Docker refuses an address in use, and
    the host is left as it was; e with an address of its own is applied, c keeps .4."""
    path = tx / "sticky.yaml"
    path.write_text(STICKY + "  a: {networks: [net]}\n  b: {networks: [net]}\n"
                             "  c: {networks: [net]}\n")
    run("apply", path, "--yes", check=True)
    grown = STICKY + "  a: {networks: [net]}\n  c: {networks: [net]}\n  d: {networks: [net]}\n"
    path.write_text(grown)
    run("apply", path, "--yes", check=True)
    assert [inet(n, "eth0") for n in "acd"] == [["10.44.0.2/24"], ["10.44.0.4/24"],
                                                  ["10.44.0.3/24"]]
    before_c, before = ip_json("-n", "c", "address"), snapshot()

    path.write_text(grown + "  e: {networks: {net: {ipv4: 10.44.0.4}}}\n")
    assert_in_use(run, path, f"{path}:8:30: containers.e.networks.net.ipv4: address 10.44.0.4 "
                  "is already in use: the last apply gave it to container 'c'")
    assert ip_json("-n", "c", "address") == before_c
    assert_unchanged(before, snapshot())
    assert "e" not in netns_names()

    path.write_text(grown + "  e: {networks: {net: {ipv4: 10.44.0.9}}}\n")
    run("apply", path, "--yes", check=True)
    assert inet("c", "eth0") == ["10.44.0.4/24"] and inet("e", "eth0") == ["10.44.0.9/24"]
    assert ping("e", "10.44.0.4")
    assert run("plan", path, "--detailed-exitcode").returncode == 0


def test_a_static_address_a_container_has_without_a_record_is_refused(run: Run, tx: Path) -> None:
    """a, b, c get .2, .3, .4, and the last-applied record is lost (an older netplan
    applied them, or the apply was killed before it recorded). a asking for c's .4 is
    refused as in the recorded case, the host left as it was; c keeps .4."""
    path = tx / "sticky.yaml"
    containers = "  b: {networks: [net]}\n  c: {networks: [net]}\n"
    path.write_text(STICKY + "  a: {networks: [net]}\n" + containers)
    run("apply", path, "--yes", check=True)
    sh("rm -r /run/netplan/topologies/sticky")
    before_c, before = ip_json("-n", "c", "address"), snapshot()

    path.write_text(STICKY + "  a: {networks: {net: {ipv4: 10.44.0.4}}}\n" + containers)
    assert_in_use(run, path, f"{path}:5:30: containers.a.networks.net.ipv4: address 10.44.0.4 "
                  "is already in use: container 'c' has it (no last apply recorded it)")
    assert ip_json("-n", "c", "address") == before_c
    assert_unchanged(before, snapshot())

    path.write_text(STICKY + "  a: {networks: {net: {ipv4: 10.44.0.9}}}\n" + containers)
    run("apply", path, "--yes", check=True)
    assert [inet(n, "eth0") for n in "abc"] == [["10.44.0.9/24"], ["10.44.0.3/24"],
                                                  ["10.44.0.4/24"]]
    assert ping("a", "10.44.0.4")
    assert run("plan", path, "--detailed-exitcode").returncode == 0
