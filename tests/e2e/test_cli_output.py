"""What the CLI prints: plans people read at a glance, versioned JSON, exit codes."""

from __future__ import annotations

import json
import subprocess

from tests.e2e.hostview import TOPOLOGIES, Run

DEFAULT_BRIDGE = TOPOLOGIES / "default-bridge.yaml"


def test_plan_apply_check_json(run: Run, clean_host: None) -> None:
    planned = json.loads(run("plan", DEFAULT_BRIDGE, "--json", check=True).stdout)
    assert planned["format_version"] == 1 and planned["in_sync"] is False
    assert planned["hosts"]["local"]["summary"] == {
        "create": 14,  # with the nft table (MASQUERADE), ip_forward and 2 hosts files
        "update": 0,
        "replace": 0,
        "delete": 0,
    }
    assert run("plan", DEFAULT_BRIDGE, "--detailed-exitcode").returncode == 2

    applied = json.loads(run("apply", DEFAULT_BRIDGE, "--format", "json", check=True).stdout)
    assert applied["applied"] is True and applied["steps"] == 14

    checked = json.loads(run("check", DEFAULT_BRIDGE, "--json", check=True).stdout)
    assert checked["format_version"] == 2  # check's own shape (docs/check.schema.json)
    assert checked["in_sync"] is True and checked["hosts"]["local"]["differences"] == []

    subprocess.run(["ip", "-n", "alpine1", "link", "set", "eth0", "mtu", "1300"], check=True)
    drift = run("check", DEFAULT_BRIDGE, "--json")
    assert drift.returncode == 2
    [difference] = json.loads(drift.stdout)["hosts"]["local"]["differences"]
    assert difference["text"] == "link:alpine1/eth0.mtu: desired 1500, observed 1300"
    assert difference["classes"] == ["drift"]


def test_human_plan_marks_each_kind_of_change(run: Run, clean_host: None) -> None:
    run("apply", DEFAULT_BRIDGE, "--yes", check=True)
    subprocess.run(["ip", "-n", "alpine1", "link", "set", "eth0", "mtu", "1300"], check=True)
    subprocess.run(["ip", "-n", "alpine2", "addr", "add", "10.9.9.9/24", "dev", "eth0"], check=True)
    out = run("plan", DEFAULT_BRIDGE, check=True).stdout
    assert "host local: 0 to create, 1 to update, 1 to replace, 1 to delete" in out
    assert "~ veth alpine1/eth0: mtu 1300 → 1500" in out
    assert "- address 10.9.9.9/24 on alpine2/eth0" in out
    assert ("-/+ route default in alpine2  (recreated: the kernel may delete it with address "
            "10.9.9.9/24 on alpine2/eth0)") in out


def test_errors_have_a_traceback_only_with_debug(run: Run) -> None:
    quiet = run("check", "/dev/null")
    assert quiet.returncode == 1 and "Traceback" not in quiet.stderr
    assert quiet.stderr.startswith("error: /dev/null: ")
    loud = run("--debug", "check", "/dev/null")
    assert loud.returncode == 1 and "Traceback" in loud.stderr
