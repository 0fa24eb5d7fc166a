"""Containers that run a process, as a user sees them: started in the container's
namespaces (checked through /proc, curl, and `netplan exec`), their output in `netplan
logs`, a dead one found by `check` and restarted by `apply`, stopped by `destroy`
(SIGTERM, then SIGKILL after stop_timeout), a failing one reported with its output
while the rest of the topology is applied."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.hostview import TOPOLOGIES, Run, assert_unchanged, ip_json, snapshot

RECORDS = Path("/run/netplan/topologies")
MakeTopology = Callable[[dict[str, Any]], Path]


@pytest.fixture
def make_topology(run: Run, tmp_path: Path) -> Iterator[MakeTopology]:
    """Write a topology file; whatever it made is destroyed after the test, and none of
    its processes may outlive it."""
    before = snapshot()
    made: list[tuple[Path, str]] = []

    def make(spec: dict[str, Any]) -> Path:
        path = tmp_path / f"{spec['name']}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        made.append((path, spec["name"]))
        return path

    yield make
    for path, name in made:
        pids = [record["pid"] for record in records(name).values()]
        run("destroy", path, "--yes", check=True)
        assert not [pid for pid in pids if alive(pid)]
        assert not (RECORDS / name / "processes").exists()
    assert_unchanged(before, snapshot())


def records(topology: str) -> dict[str, dict[str, Any]]:
    folder = RECORDS / topology / "processes"
    if not folder.exists():
        return {}
    return {d.name: json.loads((d / "process.json").read_text()) for d in folder.iterdir()
            if (d / "process.json").exists()}


def pid_of(topology: str, container: str) -> int:
    pid: int = records(topology)[container]["pid"]
    return pid


def alive(pid: int) -> bool:
    """Not gone and not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def netns_link(pid: int) -> str:
    return os.readlink(f"/proc/{pid}/ns/net")


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    """Poll until `condition` holds (a server may need a moment to listen)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {seconds:.0f} s")
        time.sleep(0.05)


def curl_ok(netns: str, url: str) -> bool:
    done = subprocess.run(
        ["ip", "netns", "exec", netns, "curl", "-s", "-m", "2", "-o", "/dev/null",
         "-w", "%{http_code}", url], capture_output=True, text=True)
    return done.stdout == "200"


def web_topology(tmp_path: Path) -> dict[str, Any]:
    for name in ("www", "ro", "rw", "mnt-ro", "mnt-rw"):
        (tmp_path / name).mkdir()
    (tmp_path / "www" / "index.html").write_text("hello from web\n")
    (tmp_path / "ro" / "data").write_text("read only\n")
    return {
        "name": "proc-web",
        "networks": {"front": {"subnet": "10.66.0.0/24"}},
        "containers": {
            "web": {
                "networks": ["front"],
                "command": ["python3", "-m", "http.server", "8000"],
                "workdir": str(tmp_path / "www"),
                "env": {"GREETING": "hello", "PORT": 8000},
                "hostname": "web.example",
                "volumes": [f"{tmp_path / 'ro'}:{tmp_path / 'mnt-ro'}:ro",
                            f"{tmp_path / 'rw'}:{tmp_path / 'mnt-rw'}"],
                "restart": "always",
            },
            "client": {"networks": ["front"]},
        },
    }


def test_web_server_runs_in_its_container(
    run: Run, make_topology: MakeTopology, tmp_path: Path
) -> None:
    path = make_topology(web_topology(tmp_path))
    applied = run("apply", path, "--yes", check=True)
    assert "+ process web" in applied.stdout
    pid = pid_of("proc-web", "web")
    assert netns_link(pid) == f"net:[{os.stat('/run/netns/web').st_ino}]"
    wait_for(lambda: curl_ok("client", "http://10.66.0.2:8000/index.html"), "serving")

    def exec_out(*command: str) -> str:
        return run("exec", path, "web", "--", *command, check=True).stdout

    # One exec for what the container's process sees (each exec costs a CLI start).
    seen = exec_out("sh", "-c", f"hostname; echo $GREETING $PORT $HOSTNAME; pwd; "
                                f"cat {tmp_path / 'mnt-ro'}/data; "
                                f"echo written > {tmp_path / 'mnt-rw'}/out").splitlines()
    assert seen == ["web.example", "hello 8000 web.example", str(tmp_path / "www"), "read only"]
    readonly = run("exec", path, "web", "--", "touch", f"{tmp_path / 'mnt-ro'}/new")
    assert readonly.returncode == 1 and "Read-only file system" in readonly.stderr
    assert (tmp_path / "rw" / "out").read_text() == "written\n"
    assert not (tmp_path / "mnt-rw" / "out").exists()  # mounted in the container only
    assert run("exec", path, "web", "--", "sh", "-c", "exit 7").returncode == 7
    assert run("exec", path, "client", "--", "hostname", check=True).stdout == "client\n"
    piped = subprocess.run([*netplan_argv(), "exec", str(path), "client", "--", "cat"],
                           input="through stdin\n", capture_output=True, text=True)
    assert piped.stdout == "through stdin\n"

    logs = run("logs", path, "web", check=True).stdout
    assert '"GET /index.html HTTP/1.1" 200' in logs
    assert run("logs", path, "web", "--tail", "1", check=True).stdout == logs.splitlines(True)[-1]
    assert "Nothing to apply" in run("apply", path, "--yes", check=True).stdout


def netplan_argv() -> list[str]:
    import sys

    return [sys.executable, "-m", "netplan"]


def test_dead_process_is_drift_and_apply_restarts_it(
    run: Run, make_topology: MakeTopology, tmp_path: Path
) -> None:
    path = make_topology(web_topology(tmp_path))
    run("apply", path, "--yes", check=True)
    first = pid_of("proc-web", "web")
    os.kill(first, signal.SIGKILL)  # the process this test's topology started
    wait_for(lambda: not alive(first), "dead")
    drift = run("check", path)
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert "process:web.running: desired True, observed False" in drift.stdout
    repaired = run("apply", path, "--yes", check=True)
    assert "~ process web: running False → True" in repaired.stdout
    second = pid_of("proc-web", "web")
    assert second != first and alive(second)
    wait_for(lambda: curl_ok("client", "http://10.66.0.2:8000/"), "serving again")
    assert run("plan", path, "--detailed-exitcode").returncode == 0


def test_a_namespace_deleted_under_its_process_is_drift_and_apply_makes_it_again(
    run: Run, clean_host: None
) -> None:
    """`ip netns del web` while web's server runs: the namespace lives on unnamed, still
    on the bridge and still serving published port 8080, and its veth's host end still
    carries web's marker. That end is the topology's: check calls it drift (no conflict),
    apply deletes it, stops the old process, makes the namespace again and starts the
    process there."""
    path = TOPOLOGIES / "published-web.yaml"
    url = "http://172.29.0.1:8080/"  # published on the host, asked from another bridge
    run("apply", path, "--yes", check=True)
    first = pid_of("published-web", "web")
    wait_for(lambda: curl_ok("client", url), "serving")
    [host_end] = [entry for entry in ip_json("link", "show", "type", "veth")
                  if entry.get("ifalias") == "netplan:published-web:frontend:web"]

    subprocess.run(["ip", "netns", "del", "web"], check=True)
    assert alive(first) and curl_ok("client", url)  # the unnamed namespace still serves
    drift = run("check", path)
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert (f"drift: link:/{host_end['ifname']}: desired absent, observed present (a veth host "
            "end whose other end is in none of the topology's namespaces") in drift.stdout
    assert "drift: netns:web: desired present, observed missing" in drift.stdout
    assert "process:web.running: desired True, observed False" in drift.stdout
    assert "conflict" not in drift.stdout + drift.stderr

    repaired = run("apply", path, "--yes", check=True)
    assert f"- stray veth {host_end['ifname']}" in repaired.stdout
    assert not alive(first)
    second = pid_of("published-web", "web")
    assert alive(second) and netns_link(second) == f"net:[{os.stat('/run/netns/web').st_ino}]"
    [web_id] = [entry["nsid"] for entry in ip_json("netns", "list-id")
                if entry.get("name") == "web"]
    [again] = [entry for entry in ip_json("link", "show", "type", "veth")
               if entry.get("ifalias") == "netplan:published-web:frontend:web"]
    assert again["ifname"] == host_end["ifname"] and again["link_netnsid"] == web_id
    assert again["master"] == "br-frontend"
    wait_for(lambda: curl_ok("client", url), "serving again")
    listening = subprocess.run(["ip", "netns", "exec", "web", "ss", "-Hltn"],
                               capture_output=True, text=True, check=True).stdout
    assert "0.0.0.0:80 " in listening
    assert run("plan", path, "--detailed-exitcode").returncode == 0


def test_destroy_stops_with_sigterm_then_sigkill_after_stop_timeout(
    run: Run, make_topology: MakeTopology
) -> None:
    path = make_topology({
        "name": "proc-stop",
        "containers": {
            "polite": {"network_mode": "none", "command": "sleep 3600"},
            "stubborn": {
                "network_mode": "none",
                "command": ["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"],
                "stop_timeout": 1,
            },
            "on-host": {"network_mode": "host", "command": "sleep 3600"},
        },
    })
    run("apply", path, "--yes", check=True)
    pids = {name: pid_of("proc-stop", name) for name in ("polite", "stubborn", "on-host")}
    assert all(alive(pid) for pid in pids.values())
    assert netns_link(pids["on-host"]) == netns_link(os.getpid())
    wait_for(lambda: "ready" in run("logs", path, "stubborn").stdout, "ready")
    started = time.monotonic()
    run("destroy", path, "--yes", check=True)
    assert time.monotonic() - started >= 1  # it waited for stop_timeout before SIGKILL
    assert not [name for name, pid in pids.items() if alive(pid)]
    assert records("proc-stop") == {}


def test_sidecar_runs_in_the_namespace_it_shares(run: Run, make_topology: MakeTopology) -> None:
    path = make_topology({
        "name": "proc-sidecar",
        "networks": {"front": {"subnet": "10.67.0.0/24"}},
        "containers": {
            "app": {"networks": ["front"], "command": "sleep 3600"},
            "sidecar": {"network_mode": "container:app", "command": "sleep 3600"},
        },
    })
    run("apply", path, "--yes", check=True)
    app, sidecar = pid_of("proc-sidecar", "app"), pid_of("proc-sidecar", "sidecar")
    link = subprocess.run(["readlink", f"/proc/{sidecar}/ns/net"], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert link == netns_link(app) == f"net:[{os.stat('/run/netns/app').st_ino}]"
    assert run("exec", path, "sidecar", "--", "hostname", check=True).stdout == "app\n"
    assert run("plan", path, "--detailed-exitcode").returncode == 0


def netns_pids(netns: str) -> set[int]:
    out = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True,
                         check=True).stdout
    return {int(word) for word in out.split()}


def test_stopping_a_process_ends_what_it_detached_and_an_exec_joined_to_it(
    run: Run, make_topology: MakeTopology
) -> None:
    """As `docker stop` ends every process of the container, also `docker exec`'s: a
    replaced command and a destroy leave nothing in the container, and nothing of the
    test's own ends."""
    spec: dict[str, Any] = {
        "name": "proc-detach",
        "networks": {"front": {"subnet": "10.69.0.0/24"}},
        "containers": {"web": {"networks": ["front"], "stop_timeout": 1,
                               "command": "setsid sleep 921 & exec sleep 1921"}},
    }
    path = make_topology(spec)
    started = [subprocess.Popen(["sleep", "3004"])]
    try:
        run("apply", path, "--yes", check=True)
        first = pid_of("proc-detach", "web")
        wait_for(lambda: len(netns_pids("web")) == 2, "detached")
        shell = subprocess.Popen([*netplan_argv(), "exec", str(path), "web", "--",
                                  "sleep", "3005"])
        started.append(shell)
        wait_for(lambda: len(netns_pids("web")) == 3, "exec'd")
        old = netns_pids("web")

        spec["containers"]["web"]["command"] = "setsid sleep 922 & exec sleep 1922"
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        replaced = run("apply", path, "--yes", check=True)
        assert "process web" in replaced.stdout
        assert shell.wait(timeout=30) == 128 + signal.SIGTERM  # as exec reports the end
        assert not [pid for pid in old if alive(pid)]
        second = pid_of("proc-detach", "web")
        wait_for(lambda: len(netns_pids("web")) == 2, "detached again")
        left = netns_pids("web")
        assert second in left

        run("destroy", path, "--yes", check=True)
        assert not [pid for pid in left | {first} if alive(pid)]
        assert started[0].poll() is None
    finally:
        for proc in started:
            proc.kill()
            proc.wait()


def test_failing_command_is_reported_with_its_output_and_the_rest_is_applied(
    run: Run, make_topology: MakeTopology
) -> None:
    spec: dict[str, Any] = {
        "name": "proc-fail",
        "networks": {"front": {"subnet": "10.68.0.0/24"}},
        "containers": {
            "good": {"networks": ["front"], "command": "sleep 3600", "restart": "always"},
            "bad": {"networks": ["front"],
                    "command": ["sh", "-c", "echo starting; echo 'no config found' >&2; exit 3"]},
            "once": {"networks": ["front"], "command": "echo done"},
        },
    }
    path = make_topology(spec)
    applied = run("apply", path, "--yes")
    assert applied.returncode == 1
    errors = [line for line in applied.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: host local: cannot start process bad: exited with status 3 within 0.2 s of "
        "its start; its last output: starting | no config found",
        "error: host local: the other steps are kept (a process that did not start is not "
        "rolled back); the next apply starts it again",
    ]
    assert "Traceback" not in applied.stderr
    assert alive(pid_of("proc-fail", "good"))
    assert curl_free_ping("good", "10.68.0.1")
    plan = run("plan", path, "--detailed-exitcode")
    assert plan.returncode == 2
    changes = [line.strip() for line in plan.stdout.splitlines() if line.startswith("  ")]
    assert [c.split("  ")[0] for c in changes] == ["+ process bad"]  # `once` ran: no drift
    assert run("logs", path, "bad", check=True).stdout == "starting\nno config found\n"
    assert run("logs", path, "once", check=True).stdout == "done\n"
    assert run("check", path).returncode == 2
    spec["containers"]["bad"]["command"] = "sleep 3600"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    run("apply", path, "--yes", check=True)
    assert run("plan", path, "--detailed-exitcode").returncode == 0


def test_several_processes_that_do_not_start_each_fail_their_step_in_the_summary(
    run: Run, make_topology: MakeTopology
) -> None:
    """Two of three processes exit at once: FAILED 2 and DONE the others, in the table and
    in --json alike (the summary said FAILED 1)."""
    spec: dict[str, Any] = {
        "name": "proc-fails",
        "networks": {"front": {"subnet": "10.69.0.0/24"}},
        "containers": {
            "good": {"networks": ["front"], "command": "sleep 3600"},
            "bad1": {"networks": ["front"], "command": ["sh", "-c", "exit 3"]},
            "bad2": {"networks": ["front"], "command": ["sh", "-c", "exit 4"]},
        },
    }
    path = make_topology(spec)
    hosts = json.loads(run("plan", path, "--json").stdout)["hosts"]
    planned = sum(host["steps"] for host in hosts.values())
    applied = run("apply", path, "--yes", "--json")
    assert applied.returncode == 1
    local = json.loads(applied.stdout)["results"]["local"]
    assert (local["steps"], local["done"], local["failed"], local["rolled_back"]) == (
        planned, planned - 2, 2, 0)
    run("destroy", path, "--yes", check=True)
    text = run("apply", path, "--yes")
    row = next(line for line in text.stdout.splitlines() if line.startswith("local"))
    assert row.split()[-4:] == [str(planned), str(planned - 2), "2", "0"]


def curl_free_ping(netns: str, address: str) -> bool:
    return subprocess.run(["ip", "netns", "exec", netns, "ping", "-c", "1", "-W", "1", address],
                          capture_output=True).returncode == 0


def test_missing_volume_path_is_refused_before_anything_changes(
    run: Run, make_topology: MakeTopology, tmp_path: Path
) -> None:
    path = make_topology({
        "name": "proc-volume",
        "containers": {"web": {"network_mode": "none", "command": "sleep 3600",
                               "volumes": [f"{tmp_path}/absent:{tmp_path}"]}},
    })
    refused = run("apply", path, "--yes")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"error: {path}:7:7: containers.web.volumes[0]: host 'local' has no {tmp_path}/absent "
        "(the host path "
        f"of a volume of container 'web') (hint: create {tmp_path}/absent on host 'local', "
        "or change the volume)"
    )
    assert not Path("/run/netns/web").exists()
    assert records("proc-volume") == {}


def test_exec_outside_a_running_process_and_into_a_missing_container(
    run: Run, make_topology: MakeTopology
) -> None:
    path = make_topology({"name": "proc-exec", "containers": {"idle": {"network_mode": "none"}}})
    missing = run("exec", path, "idle", "--", "true")
    assert missing.returncode == 125 and "the container is not applied" in missing.stderr
    run("apply", path, "--yes", check=True)
    links = run("exec", path, "idle", "--", "ip", "-j", "link", check=True).stdout
    assert [link["ifname"] for link in json.loads(links)] == ["lo"]
    assert run("exec", path, "idle", "--", "no-such-program").returncode == 127
    unknown = run("exec", path, "nobody", "--", "true")
    assert unknown.returncode == 1 and "no container 'nobody'" in unknown.stderr
    no_process = run("logs", path, "idle")
    assert no_process.returncode == 1 and "runs no process" in no_process.stderr


@pytest.mark.parametrize(("command", "status"), [
    ("echo ready; exec sleep 61", 130),  # ended by SIGINT, as a shell reports it
    ("trap 'exit 7' INT; echo ready; while :; do sleep 0.1; done", 7),  # its own status
])
@pytest.mark.parametrize("container", ["runs", "idle"])
def test_ctrl_c_on_exec_ends_with_the_commands_status(
    run: Run, make_topology: MakeTopology, container: str, command: str, status: int
) -> None:
    """The terminal's Ctrl-C reaches the whole process group, netplan and the command;
    with the container's process running or not, netplan exits as the command did."""
    path = make_topology({"name": "proc-ctrl-c", "containers": {
        "runs": {"network_mode": "none", "command": "sleep 3600"},
        "idle": {"network_mode": "none"},
    }})
    run("apply", path, "--yes", check=True)
    execed = subprocess.Popen(
        [sys.executable, "-m", "netplan", "exec", str(path), container, "--", "sh", "-c", command],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert execed.stdout is not None
        assert execed.stdout.readline() == "ready\n"
        os.killpg(execed.pid, signal.SIGINT)
        _, err = execed.communicate(timeout=10)
    finally:
        if execed.poll() is None:
            os.killpg(execed.pid, signal.SIGKILL)
            execed.wait()
    assert (execed.returncode, err) == (status, "")


def follow_ticker(run: Run, make_topology: MakeTopology, name: str) -> subprocess.Popen[str]:
    """`netplan logs FILE ticker -f` on an applied container printing `tick N` 5 times a
    second."""
    path = make_topology({
        "name": name,
        "containers": {"ticker": {
            "network_mode": "none",
            "command": ["sh", "-c", "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done"],
        }},
    })
    run("apply", path, "--yes", check=True)
    return subprocess.Popen([sys.executable, "-m", "netplan", "logs", str(path), "ticker", "-f"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_logs_follow_prints_new_output_and_stops_quietly_on_ctrl_c(
    run: Run, make_topology: MakeTopology,
) -> None:
    follow = follow_ticker(run, make_topology, "proc-follow")
    try:
        assert follow.stdout is not None
        lines = [follow.stdout.readline() for _ in range(8)]  # more than one read's worth
        follow.send_signal(signal.SIGINT)
        _, err = follow.communicate(timeout=10)
    finally:
        if follow.poll() is None:
            follow.kill()
    assert [line.split()[0] for line in lines] == ["tick"] * 8
    numbers = [int(line.split()[1]) for line in lines]
    assert numbers == list(range(numbers[0], numbers[0] + 8))  # nothing lost or repeated
    assert (follow.returncode, err) == (0, "")


def test_logs_follow_stops_when_its_reader_has_gone(run: Run, make_topology: MakeTopology) -> None:
    """`logs -f | head -2`: following for nobody would never end."""
    follow = follow_ticker(run, make_topology, "proc-head")
    try:
        assert follow.stdout is not None and follow.stderr is not None
        lines = [follow.stdout.readline() for _ in range(2)]
        follow.stdout.close()
        assert follow.wait(timeout=10) == 0 and follow.stderr.read() == ""
    finally:
        if follow.poll() is None:
            follow.kill()
    assert [line.split()[0] for line in lines] == ["tick", "tick"]
