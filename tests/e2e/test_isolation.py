"""Isolation between topologies, as Docker isolates all of its networks: several example
topologies applied together cannot reach each other's containers (100% loss), published
ports still cross through a host address, and each topology's own containers still reach
each other. Observed with ping, curl, `ip -j -d link` and `nft -j list ruleset`."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from netplan.agent.resources import BRIDGE_GROUP
from tests.e2e.hostview import TOPOLOGIES, Run, assert_drift_repaired, ip_json
from tests.e2e.test_firewall import http_ok, loss

APPLIED = ["user-bridges", "isolated-bridges", "internal-network", "published-web"]
"""Four topologies, nine bridges: the reviewer's three, and one publishing a port."""


def paths() -> list[Path]:
    return [TOPOLOGIES / f"{name}.yaml" for name in APPLIED]


def bridge_groups() -> dict[str, str]:
    """Every bridge of the host → its device group, as iproute2 prints it."""
    return {link["ifname"]: link["group"] for link in ip_json("-d", "link", "show")
            if link.get("linkinfo", {}).get("info_kind") == "bridge"}


def group_drops() -> dict[str, list[str]]:
    """Each netplan table → the bridges whose forward traffic it drops when it goes to a
    bridge of BRIDGE_GROUP (`iifname X ... oifgroup N drop`)."""
    out = subprocess.run(["nft", "-j", "list", "ruleset"], capture_output=True, text=True,
                         check=True).stdout
    found: dict[str, list[str]] = {}
    for item in json.loads(out)["nftables"]:
        rule = item.get("rule")
        if rule is None or rule["family"] != "inet" or rule["chain"] != "forward":
            continue
        matches = {m["match"]["left"]["meta"]["key"]: m["match"]["right"]
                   for m in rule["expr"] if "meta" in m.get("match", {}).get("left", {})}
        if matches.get("oifgroup") == BRIDGE_GROUP and "drop" in rule["expr"][-1]:
            found.setdefault(rule["table"], []).append(matches["iifname"])
    return found


def wait_for_web() -> None:
    """published-web's container starts its own server: wait until it answers."""
    deadline = time.monotonic() + 10
    while not http_ok("http://172.28.0.2:80/", "web"):
        assert time.monotonic() < deadline, "the web container's server did not start"
        time.sleep(0.1)


def test_topologies_cannot_reach_each_other(run: Run, clean_host: None) -> None:
    for path in paths():
        run("apply", path, "--yes", check=True)

    groups = bridge_groups()
    ours = ["br-alpine-net", "br-backend", "br-blue", "br-green", "br-quiet", "br-private",
            "br-public", "br-frontend", "br-clients"]
    assert {name: groups.get(name) for name in ours} == dict.fromkeys(ours, str(BRIDGE_GROUP))
    drops: dict[str, Any] = group_drops()
    assert drops["netplan_isolated-bridges"] == ["br-blue", "br-green", "br-quiet"]
    assert drops["netplan_internal-network"] == ["br-public"]  # internal: dropped already

    # Across topologies: nothing, either way (the reviewer's ping first).
    assert loss("alpine1", "10.81.0.2") == 100  # user-bridges → isolated-bridges
    assert loss("blue1", "172.21.240.1") == 100  # and back
    assert loss("alpine3", "10.91.0.2") == 100  # user-bridges → internal-network's public
    assert loss("app", "172.22.0.129") == 100  # and back, from app's default route
    assert loss("client", "10.82.0.2") == 100  # published-web → isolated-bridges
    assert loss("app", "10.92.0.2") == 0  # a topology's own, across its internal edge
    # Within one topology, on one bridge: as before.
    assert loss("alpine1", "172.21.240.2") == 0
    assert loss("blue1", "10.81.0.3") == 0

    # A published port is reached from another topology's container through a host
    # address (its own gateway), not through the web container's address.
    wait_for_web()
    assert http_ok("http://10.81.0.1:8080/", "blue1")
    assert http_ok("http://172.21.240.0:8080/", "alpine1")
    assert not http_ok("http://172.28.0.2:80/", "blue1")

    for path in paths():
        assert run("plan", path, "--detailed-exitcode").returncode == 0


def test_a_bridge_out_of_the_group_is_drift_repaired_in_place(
        run: Run, clean_host: None) -> None:
    """A bridge put back in the default group (as an older netplan left it) is named by
    `check` and updated, not replaced: its containers keep their link."""
    path = TOPOLOGIES / "isolated-bridges.yaml"
    run("apply", path, "--yes", check=True)
    index = ip_json("link", "show", "br-blue")[0]["ifindex"]
    assert_drift_repaired(run, path, "ip link set dev br-blue group default",
                          rf"link:/br-blue\.group: desired {BRIDGE_GROUP}, observed 0")
    assert ip_json("link", "show", "br-blue")[0]["ifindex"] == index
    assert bridge_groups()["br-blue"] == str(BRIDGE_GROUP)
    assert loss("blue1", "10.81.0.3") == 0
