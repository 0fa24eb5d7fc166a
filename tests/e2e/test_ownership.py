"""`exec` and `verify` enter a container's namespace only when it is the topology's: its
`lo` carries the topology's marker. A namespace of the container's name that is missing,
another topology's, or made by hand (`ip netns add`) is refused with one line saying
which, and nothing runs in it. verify refuses a check to such a container too (from the
host, which enters no namespace), and a `host`-mode container is the topology's only
where the topology is applied."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.hostview import TOPOLOGIES, Run, netns_names

NAMES = TOPOLOGIES / "names.yaml"
NETWORK_MODES = TOPOLOGIES / "network-modes.yaml"
DEFAULT_BRIDGE = TOPOLOGIES / "default-bridge.yaml"
pytestmark = pytest.mark.usefixtures("clean_host")


@pytest.fixture
def hand_made() -> Iterator[list[str]]:
    """Namespaces made with `ip netns add` by the test, deleted after it."""
    made: list[str] = []
    yield made
    for name in made:
        subprocess.run(["ip", "netns", "del", name], check=True)


def add_by_hand(made: list[str], *names: str) -> None:
    for name in names:
        subprocess.run(["ip", "netns", "add", name], check=True)
        made.append(name)


def refused(run: Run, path: Path, container: str) -> str:
    """exec's one stderr line for a container it must not enter (exit 125, the command
    not run)."""
    result = run("exec", path, container, "--", "echo", "ran")
    assert result.returncode == 125, result.stdout + result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    return line


def test_exec_enters_only_the_topologys_namespace(run: Run, hand_made: list[str]) -> None:
    assert refused(run, NAMES, "web") == (
        "error: container web on host local: namespace web does not exist (/run/netns/web): "
        "the container is not applied (hint: apply topology 'names' first)")

    run("apply", NETWORK_MODES, "--yes", check=True)
    assert refused(run, NAMES, "web") == (
        "error: container web on host local: namespace web belongs to netplan topology "
        "'network-modes', not to 'names' (hint: use the file of topology 'network-modes', "
        "or destroy that topology and apply 'names')")
    assert refused(run, NAMES, "metrics").startswith(  # container:web: web's namespace
        "error: container metrics on host local: namespace web belongs to netplan topology "
        "'network-modes'")
    own = run("exec", NETWORK_MODES, "web", "--", "hostname", check=True)
    assert own.stdout == "web\n"
    shared = run("exec", NETWORK_MODES, "sidecar", "--", "ip", "-j", "address", check=True)
    assert "10.77.0.2" in {a["local"] for link in json.loads(shared.stdout)
                           for a in link["addr_info"]}  # fmt: skip

    add_by_hand(hand_made, "db")
    assert refused(run, NAMES, "db") == (
        "error: container db on host local: namespace db was not made by netplan (its lo "
        "carries no topology's marker) (hint: it was made by hand (ip netns add?): remove it "
        "or rename the container, then apply topology 'names')")
    assert run("plan", NETWORK_MODES, "--detailed-exitcode").returncode == 0


def failures(run: Run) -> dict[str, str]:
    """verify of default-bridge, which must fail: each failed check's detail by name."""
    result = run("verify", DEFAULT_BRIDGE, "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    return {c["name"]: c["detail"] for c in report["checks"] if not c["passed"]}


FROM_ALPINE1 = ("alpine1 -> alpine2", "the gateway")
"""default-bridge's checks that start in alpine1's namespace."""


def test_verify_probes_only_from_the_topologys_namespaces(
    run: Run, tx: Path, hand_made: list[str]
) -> None:
    for name in FROM_ALPINE1:
        assert failures(run)[name] == (
            "namespace alpine1 does not exist (/run/netns/alpine1): the container is not "
            "applied (hint: apply topology 'default-bridge' first)")

    impostor = tx / "impostor.yaml"
    impostor.write_text(yaml.safe_dump({
        "name": "impostor", "networks": {"net": {"subnet": "10.45.0.0/24"}},
        "containers": {"alpine1": {"networks": ["net"]}, "alpine2": {"networks": ["net"]}}}))
    run("apply", impostor, "--yes", check=True)
    found = failures(run)
    for name in FROM_ALPINE1:
        assert found[name] == (
            "namespace alpine1 belongs to netplan topology 'impostor', not to 'default-bridge' "
            "(hint: use the file of topology 'impostor', or destroy that topology and apply "
            "'default-bridge')")
    assert found["alpine2 -> alpine1"].startswith(
        "namespace alpine2 belongs to netplan topology 'impostor'")
    text = run("verify", DEFAULT_BRIDGE)
    assert text.returncode == 1
    assert ("FAIL the gateway: expected reachable, got error (namespace alpine1 belongs to "
            "netplan topology 'impostor'") in text.stdout
    run("destroy", impostor, "--yes", check=True)

    add_by_hand(hand_made, "alpine1", "alpine2")
    for name in FROM_ALPINE1:
        assert failures(run)[name].startswith("namespace alpine1 was not made by netplan")
    for name in list(hand_made):
        subprocess.run(["ip", "netns", "del", name], check=True)
        hand_made.remove(name)

    run("apply", DEFAULT_BRIDGE, "--yes", check=True)
    passed = run("verify", DEFAULT_BRIDGE)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "verify: all 4 checks passed" in passed.stdout
    assert run("plan", DEFAULT_BRIDGE, "--detailed-exitcode").returncode == 0
    assert {"alpine1", "alpine2"} <= netns_names()


def web_and_db(name: str, checks: list[dict[str, str]]) -> dict[str, object]:
    """A topology of containers web and db at the same addresses whatever its name."""
    return {"name": name, "networks": {"net": {"subnet": "10.46.0.0/24"}},
            "containers": {"web": {"networks": ["net"]}, "db": {"networks": ["net"]},
                           "mon": {"network_mode": "host"}},
            "checks": checks}


def test_verify_probes_to_a_container_only_when_it_is_the_topologys(run: Run, tx: Path) -> None:
    """A check from the host, which enters no namespace, and one from a `host`-mode
    container are judged from verify's observation like the ones that enter one."""
    applied, other = tx / "applied.yaml", tx / "other.yaml"
    applied.write_text(yaml.safe_dump(web_and_db("applied", [])))
    other.write_text(yaml.safe_dump(web_and_db("other", [
        {"name": "the host reaches a container", "from": "host:local", "to": "web"},
        {"name": "web reaches db", "from": "web", "to": "db"},
        {"name": "host mode", "from": "mon", "to": "10.46.0.1"},
    ])))
    run("apply", applied, "--yes", check=True)
    [lo] = json.loads(subprocess.run(["ip", "-n", "web", "-j", "link", "show", "lo"],
                                     check=True, capture_output=True, text=True).stdout)
    assert lo["ifalias"].startswith("netplan:applied")  # web is the other topology's
    answered = subprocess.run(["ping", "-c", "1", "-W", "1", "10.46.0.2"], capture_output=True)
    assert answered.returncode == 0  # so a probe sent from the host would be answered

    result = run("verify", other, "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert {(c["got"], c["attempts"]) for c in checks.values()} == {("error", 0)}
    assert checks["the host reaches a container"]["detail"] == (
        "namespace web belongs to netplan topology 'applied', not to 'other' (hint: use the "
        "file of topology 'applied', or destroy that topology and apply 'other')")
    assert checks["web reaches db"]["detail"].startswith(
        "namespace web belongs to netplan topology 'applied'")
    assert checks["host mode"]["detail"] == (
        f"topology 'other' is not applied on host local (hint: netplan apply {other})")

    run("destroy", applied, "--yes", check=True)
    run("apply", other, "--yes", check=True)
    passed = run("verify", other)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "verify: all 3 checks passed" in passed.stdout
    assert run("plan", other, "--detailed-exitcode").returncode == 0


def test_exec_in_host_mode_only_where_the_topology_is_applied(run: Run) -> None:
    """`on-host` has no namespace to carry a marker: the last-applied record's roster is
    what ties it to the host."""
    line = (f"error: container on-host on host local: topology 'network-modes' is not applied "
            f"on host local (hint: netplan apply {NETWORK_MODES})")
    assert refused(run, NETWORK_MODES, "on-host") == line
    run("apply", DEFAULT_BRIDGE, "--yes", check=True)  # another topology applied: not this one
    assert refused(run, NETWORK_MODES, "on-host") == line

    run("apply", NETWORK_MODES, "--yes", check=True)
    inside = run("exec", NETWORK_MODES, "on-host", "--", "readlink", "/proc/self/ns/net",
                 check=True)
    assert inside.stdout == f"{os.readlink('/proc/self/ns/net')}\n"  # the host's own
    assert run("plan", NETWORK_MODES, "--detailed-exitcode").returncode == 0

    run("destroy", NETWORK_MODES, "--yes", check=True)
    assert refused(run, NETWORK_MODES, "on-host") == line
    assert run("plan", DEFAULT_BRIDGE, "--detailed-exitcode").returncode == 0
