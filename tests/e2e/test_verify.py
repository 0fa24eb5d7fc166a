"""`netplan verify` as CI runs it: a cut link fails the check that crosses it (exit 1,
named), a tcp:// check against a real listener, and `apply --verify`. That the examples'
checks pass after apply (and agree with ping) is part of each example's round trip in
tests/e2e/test_examples.py."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.hostview import TOPOLOGIES, Run


def test_cutting_a_link_fails_the_check_that_crosses_it(run: Run, clean_host: None) -> None:
    path = TOPOLOGIES / "isolated-bridges.yaml"
    run("apply", path, "--yes", check=True)
    passed = run("verify", path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.splitlines()[0].split() == [
        "RESULT", "CHECK", "FROM", "TO", "EXPECTED", "GOT", "TIME"]
    assert "verify: all 5 checks passed" in passed.stdout
    subprocess.run(["ip", "-n", "blue2", "link", "set", "eth0", "down"], check=True)
    failed = run("verify", path)
    assert failed.returncode == 1
    assert "FAIL same bridge: expected reachable, got unreachable" in failed.stdout
    assert "verify: 1 of 5 checks failed: 'same bridge'" in failed.stdout
    github = run("verify", path, "--format", "github")
    assert github.returncode == 1
    [annotation] = [line for line in github.stdout.splitlines() if line.startswith("::error")]
    line = _line_of(path, "name: same bridge")
    assert annotation.startswith(f"::error file={path},line={line},")
    repaired = run("apply", path, "--yes", "--verify")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "verify: all 5 checks passed" in repaired.stdout
    assert run("plan", path, "--detailed-exitcode").returncode == 0


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.fixture
def web_server() -> Iterator[None]:
    """python3 -m http.server on port 8000 inside `web` of tcp.yaml, stopped by its PID."""
    server = subprocess.Popen(
        ["ip", "netns", "exec", "web", "python3", "-m", "http.server", "8000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = subprocess.run(["ip", "netns", "exec", "web", "ss", "-Hltn", "sport = :8000"],
                                   capture_output=True, text=True)
            if probe.stdout.strip():
                break
            time.sleep(0.1)
        yield
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)


TCP_TOPOLOGY = """\
name: tcp-checks
networks:
  front: {subnet: 10.71.0.0/24}
containers:
  web: {networks: [front]}
  client: {networks: [front]}
checks:
  - {name: the web server answers, from: client, to: "tcp://web:8000"}
  - {name: nothing on 8001, from: client, to: "tcp://web:8001", expect: unreachable}
  - {name: from the host, from: "host:local", to: "tcp://10.71.0.2:8000"}
  - {name: no udp service, from: client, to: "udp://web:8000", expect: unreachable,
     retries: 0, timeout: 0.5}
"""


@pytest.fixture
def tcp_topology(run: Run, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "tcp.yaml"
    path.write_text(TCP_TOPOLOGY)
    run("apply", path, "--yes", check=True)
    yield path
    run("destroy", path, "--yes", check=True)


def test_tcp_checks_against_a_real_listener(run: Run, tcp_topology: Path,
                                            web_server: None) -> None:
    done = run("verify", tcp_topology, "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    details = {c["name"]: c["detail"] for c in json.loads(done.stdout)["checks"]}
    assert details == {"the web server answers": "connected",
                       "nothing on 8001": "connection refused",
                       "from the host": "connected",
                       "no udp service": "port unreachable"}
    assert run("plan", tcp_topology, "--detailed-exitcode").returncode == 0


def test_a_topology_without_checks_has_nothing_to_verify(run: Run, clean_host: None) -> None:
    path = TOPOLOGIES / "published-web.yaml"
    done = run("verify", path)
    assert done.returncode == 0
    assert done.stdout.strip() == f"{path} has no checks (add a `checks:` section)"
