"""Containers that run a process on lab hosts, reached over SSH as a user reaches them: a
web server on hostB answers a client on hostA across the overlay (`netplan exec`), exit
codes and stdin pass through `exec`, its request log is in `netplan logs` (and `logs -f`
follows it), a process killed on its host is drift that `apply` repairs, and `destroy`
stops it. Checked from inside the hosts (`nsenter`), not only through netplan."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from providers.lab import Lab
from tests.e2e.hostview import netplan
from tests.multihost.labview import in_host, netns_names

TOPOLOGY = {
    "name": "procs",
    "hosts": ["hostA", "hostB"],
    "networks": {"overlay": {"driver": "overlay", "subnet": "10.89.0.0/24"}},
    "containers": {
        "web": {
            "host": "hostB",
            "networks": ["overlay"],
            "command": ["python3", "-u", "-m", "http.server", "8000"],
            "restart": "always",
        },
        "client": {"host": "hostA", "networks": ["overlay"]},
    },
}
RECORD = "/run/netplan/topologies/procs/processes/web/process.json"


@pytest.fixture
def topology(tmp_path: Path) -> Path:
    path = tmp_path / "procs.yaml"
    path.write_text(yaml.safe_dump(TOPOLOGY, sort_keys=False))
    return path


def netplan_with(stdin: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """netplan with `stdin` as its standard input (hostview.netplan gives it /dev/null)."""
    return subprocess.run([sys.executable, "-m", "netplan", *map(str, args)], input=stdin,
                          capture_output=True, text=True, timeout=60)


def web_pid(lab: Lab) -> int:
    """The PID of web's process on hostB, from the agent's record there."""
    found = in_host(lab, "hostB", "cat", RECORD)
    assert found.returncode == 0, found.stderr
    pid: int = json.loads(found.stdout)["pid"]
    return pid


def runs_on_host(lab: Lab, host: str, pid: int) -> bool:
    """PID is a live process on the lab host (seen in the host's own PID namespace)."""
    stat = in_host(lab, host, "cat", f"/proc/{pid}/stat")
    return stat.returncode == 0 and stat.stdout.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def fetch(topology: Path, path: str) -> str:
    """GET http://web:8000<path> from the client container on hostA: the HTTP status."""
    done = netplan("exec", topology, "client", "-p", "lab", "--", "curl", "-s", "-m", "3",
                   "-o", "/dev/null", "-w", "%{http_code}", f"http://web:8000{path}")
    return done.stdout


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {seconds:.0f} s")
        time.sleep(0.2)


def read_until(process: subprocess.Popen[bytes], needle: bytes, seconds: float) -> bytes:
    """What `process` printed until `needle` appeared (AssertionError after `seconds`)."""
    assert process.stdout is not None
    fd, seen = process.stdout.fileno(), b""
    deadline = time.monotonic() + seconds
    while needle not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or process.poll() is not None:
            raise AssertionError(f"{needle!r} not printed; got {seen!r}")
        if select.select([fd], [], [], remaining)[0]:
            seen += os.read(fd, 65536)
    return seen


def test_a_web_server_on_one_host_serves_a_client_on_the_other(
    lab: Lab, topology: Path
) -> None:
    applied = netplan("apply", topology, "-p", "lab", "--yes", check=True)
    assert "+ process web" in applied.stdout
    pid = web_pid(lab)
    assert runs_on_host(lab, "hostB", pid)
    web_netns = in_host(lab, "hostB", "readlink", f"/proc/{pid}/ns/net").stdout
    inode = in_host(lab, "hostB", "stat", "-L", "-c", "%i", "/run/netns/web").stdout.strip()
    assert web_netns.strip() == f"net:[{inode}]"
    wait_for(lambda: fetch(topology, "/") == "200", "serving across the overlay")
    assert netplan("plan", topology, "-p", "lab", "--detailed-exitcode").returncode == 0

    exited = netplan("exec", topology, "client", "-p", "lab", "--", "sh", "-c", "exit 7")
    assert exited.returncode == 7, exited.stderr
    echoed = netplan_with("through stdin\n", "exec", topology, "web", "-p", "lab", "--",
                          "sh", "-c", "cat; hostname")
    assert echoed.returncode == 0, echoed.stderr
    assert echoed.stdout == "through stdin\nweb\n"
    # A command that ends while stdin is still open (a terminal, a pipe): exec ends with it.
    unread = subprocess.Popen([sys.executable, "-m", "netplan", "exec", str(topology), "client",
                               "-p", "lab", "--", "true"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert unread.wait(timeout=60) == 0
    finally:
        _, errors = unread.communicate(timeout=10)
    assert errors == b""

    assert fetch(topology, "/asked-once") == "404"
    logs = netplan("logs", topology, "web", "-p", "lab", check=True)
    assert '"GET /asked-once HTTP/1.1" 404' in logs.stdout
    assert netplan("logs", topology, "web", "-p", "lab", "--tail", "1",
                   check=True).stdout.count("\n") == 1

    netplan("destroy", topology, "-p", "lab", "--yes", check=True)
    assert not runs_on_host(lab, "hostB", pid)
    assert in_host(lab, "hostB", "test", "-e", RECORD).returncode == 1
    assert netns_names(lab, "hostA") == netns_names(lab, "hostB") == set()


def test_logs_follow_prints_new_requests(lab: Lab, topology: Path) -> None:
    netplan("apply", topology, "-p", "lab", "--yes", check=True)
    wait_for(lambda: fetch(topology, "/") == "200", "serving across the overlay")
    follow = subprocess.Popen(
        [sys.executable, "-m", "netplan", "logs", str(topology), "web", "-p", "lab", "-f"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        read_until(follow, b'"GET / HTTP/1.1" 200', 20)
        assert fetch(topology, "/while-following") == "404"
        read_until(follow, b'"GET /while-following HTTP/1.1" 404', 20)
    finally:
        os.kill(follow.pid, signal.SIGTERM)
        _, errors = follow.communicate(timeout=10)
    assert follow.returncode == -signal.SIGTERM, errors
    assert b"Traceback" not in errors
    netplan("destroy", topology, "-p", "lab", "--yes", check=True)


def test_a_killed_process_is_drift_that_apply_restarts(lab: Lab, topology: Path) -> None:
    netplan("apply", topology, "-p", "lab", "--yes", check=True)
    first = web_pid(lab)
    assert in_host(lab, "hostB", "kill", "-KILL", str(first)).returncode == 0
    wait_for(lambda: not runs_on_host(lab, "hostB", first), "gone")

    checked = netplan("check", topology, "-p", "lab")
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert "process:web" in checked.stdout

    repaired = netplan("apply", topology, "-p", "lab", "--yes", check=True)
    assert "process web" in repaired.stdout
    second = web_pid(lab)
    assert second != first and runs_on_host(lab, "hostB", second)
    wait_for(lambda: fetch(topology, "/") == "200", "serving again")
    assert netplan("check", topology, "-p", "lab").returncode == 0

    netplan("destroy", topology, "-p", "lab", "--yes", check=True)
    assert not runs_on_host(lab, "hostB", second)
