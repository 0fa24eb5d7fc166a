"""Stop signals during apply and destroy (netplan/interrupt.py): Ctrl-C (SIGINT), SIGTERM
and SIGHUP, each sent at a deterministic point of the work by tests/e2e/stop_harness.py,
then the exit code, the messages and the kernel's state (`ip -j`, `ip netns`, nft)
against the state before. The last two tests close a real terminal instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.e2e.hostview import (
    REPO,
    Run,
    assert_returns_to,
    assert_unchanged,
    bridge_topology,
    netns_names,
    settled_snapshot,
    snapshot,
)

SIGNALS = ["INT", "TERM", "HUP"]
WHY = {"INT": "Ctrl-C", "TERM": "SIGTERM", "HUP": "SIGHUP"}
BACK = ": the host is as it was before the apply"


def stopped(point: str, sender: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """netplan ARGS with SIGsender sent at `point`, in a process group of its own (a
    signal to the group must not reach the tests)."""
    return subprocess.run(
        [sys.executable, "-m", "tests.e2e.stop_harness", point, sender, *map(str, args)],
        cwd=REPO, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
        start_new_session=True,
    )  # fmt: skip


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stderr.splitlines()


def interrupted(step: int, total: int, signal: str) -> str:
    """The agent's line for an apply it stopped before `step` (1-based)."""
    why = WHY[signal]
    return f"error: host local: interrupted before step {step} of {total}: cancelled ({why})"


def containers(count: int) -> list[str]:
    return [f"c{i}" for i in range(count)]


def steps_of(run: Run, path: Path, *options: str) -> int:
    """How many steps an apply (or with --destroy, a destroy) of `path` takes now."""
    plan = run("plan", path, "--json", *options, check=True)
    return sum(host["steps"] for host in json.loads(plan.stdout)["hosts"].values())


@pytest.mark.parametrize("signal", SIGNALS)
def test_a_stop_while_the_request_is_built_stops_before_the_first_step(
    run: Run, tx: Path, signal: str
) -> None:
    """The review's lost Ctrl-C: the cancel reached the agent before its apply began."""
    path = bridge_topology(tx / "lab.yaml", "lab", containers(5))
    total = steps_of(run, path)
    before = snapshot()
    result = stopped("request", signal, "apply", path, "--yes")
    assert result.returncode == 1, result.stderr
    assert errors(result) == [
        interrupted(1, total, signal),
        f"error: host local: nothing had been changed yet{BACK}",
    ]
    assert result.stdout.splitlines()[-1].startswith(f"Apply interrupted ({WHY[signal]})")
    assert_unchanged(before, snapshot())


ONE_PROCESS = len(os.sched_getaffinity(0)) < 2
"""Namespaces are then made in this process: no forked child to reach."""


@pytest.mark.parametrize("signal", SIGNALS)
@pytest.mark.parametrize(
    ("point", "count", "done"),
    [("step:25", 20, 25),
     pytest.param("netns-child", 200, 200, marks=pytest.mark.skipif(ONE_PROCESS, reason="1 CPU"))],
    ids=["between-steps", "in-the-namespace-maker"],
)  # fmt: skip
def test_a_stop_while_the_steps_run_rolls_back(
    run: Run, tx: Path, signal: str, point: str, count: int, done: int
) -> None:
    """Between two steps; or as a terminal signals every process of its foreground
    group, while a forked child makes half of the namespaces: the child finishes them,
    and the apply stops after them."""
    path = bridge_topology(tx / "lab.yaml", "lab", containers(count))
    total = steps_of(run, path)
    before = settled_snapshot()
    result = stopped(point, signal, "apply", path, "--yes")
    assert result.returncode == 1, result.stderr
    lines = errors(result)
    assert lines[0] == interrupted(done + 1, total, signal)
    assert lines[1].startswith(f"error: host local: rolled back {done} of {done} steps in ")
    assert lines[1].endswith(BACK) and len(lines) == 2
    assert_returns_to(before)


def test_a_stopped_apply_counts_its_steps_as_they_went_in_json(run: Run, tx: Path) -> None:
    """Not the plan's steps as if they were done: those that ran, none refused, and the
    rollback's, for the host; `steps` stays the number planned."""
    path = bridge_topology(tx / "lab.yaml", "lab", containers(5))
    total = steps_of(run, path)
    result = stopped("step:7", "TERM", "apply", path, "--yes", "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["verified"] is False and report["applied"] is False
    local = report["results"]["local"]
    assert {k: v for k, v in local.items() if k != "errors"} == {
        "result": "failed at apply", "steps": total, "done": 7, "failed": 0, "rolled_back": 7}
    assert local["errors"][0] == interrupted(8, total, "TERM").removeprefix("error: ")


def test_a_stopped_destroy_puts_back_what_it_removed(run: Run, tx: Path) -> None:
    path = bridge_topology(tx / "lab.yaml", "lab", containers(5))
    run("apply", path, "--yes", check=True)
    total = steps_of(run, path, "--destroy")
    result = stopped("step:3", "TERM", "destroy", path, "--yes")
    assert result.returncode == 1, result.stderr
    lines = errors(result)
    assert lines[0] == interrupted(4, total, "TERM")
    assert lines[1].startswith("error: host local: rolled back 3 of 3 steps in ")
    assert lines[1].endswith(": the host is as it was before the destroy") and len(lines) == 2
    assert result.stdout.splitlines()[-1].startswith("Destroy interrupted (SIGTERM)")
    assert netns_names() == set(containers(5))
    assert run("plan", path, "--detailed-exitcode").returncode == 0


@pytest.mark.parametrize("signal", ["INT", "TERM"])
def test_a_stop_while_verifying_keeps_the_steps_and_says_so(
    run: Run, tx: Path, signal: str
) -> None:
    path = bridge_topology(tx / "lab.yaml", "lab", containers(5))
    total = steps_of(run, path)
    result = stopped("verify", signal, "apply", path, "--yes")
    assert result.returncode == 1, result.stderr
    assert errors(result) == [
        f"error: host local: interrupted ({WHY[signal]}) after its {total} steps were done: "
        f"the changes are kept but not verified (hint: run `netplan check {path}`)"
    ]
    assert netns_names() == set(containers(5))
    assert run("check", path).returncode == 0


def test_a_stop_while_verifying_with_confirm_reverts(run: Run, tx: Path) -> None:
    path = bridge_topology(tx / "lab.yaml", "lab", containers(5))
    before = settled_snapshot()
    result = stopped("verify", "TERM", "apply", path, "--yes", "--confirm", "600")
    assert result.returncode == 1, result.stderr
    lines = errors(result)
    assert lines[0] == ("error: host local: interrupted (SIGTERM) before the change was "
                        "confirmed: reverted it")  # fmt: skip
    assert lines[1].startswith("error: host local: rolled back ") and lines[1].endswith(BACK)
    assert_returns_to(before)


@pytest.mark.parametrize(
    ("point", "signal"), [("record", "HUP"), ("done", "TERM"), ("done", "INT")]
)
def test_a_stop_once_the_apply_is_done_stops_nothing_and_exits_as_the_apply_did(
    run: Run, tx: Path, point: str, signal: str
) -> None:
    """As the apply is recorded (it finishes the record), or after (the exit was 143,
    SIGTERM's default action): the apply's own exit code, and one note."""
    path = bridge_topology(tx / "lab.yaml", "lab", containers(5))
    result = stopped(point, signal, "apply", path, "--yes")
    assert result.returncode == 0, result.stderr
    assert "Apply complete" in result.stdout
    assert errors(result) == [
        f"note: {WHY[signal]} came after the apply was done and recorded: it stopped nothing"]
    assert run("check", path).returncode == 0
    assert netns_names() == set(containers(5))


def test_a_stop_once_a_destroy_is_done_stops_nothing(run: Run, tx: Path) -> None:
    path = bridge_topology(tx / "lab.yaml", "lab", containers(3))
    run("apply", path, "--yes", check=True)
    result = stopped("done", "TERM", "destroy", path, "--yes", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verified"] is True
    assert errors(result) == [
        "note: SIGTERM came after the destroy was done and recorded: it stopped nothing"]
    assert netns_names() == set()


def test_a_stop_before_any_change_changes_nothing(run: Run, tx: Path) -> None:
    path = bridge_topology(tx / "lab.yaml", "lab", containers(5))
    before = snapshot()
    result = stopped("plan", "TERM", "apply", path, "--yes")
    assert result.returncode == 1, result.stderr
    assert errors(result) == ["error: interrupted (SIGTERM) before any change: nothing was changed"]
    assert_unchanged(before, snapshot())


def test_no_rollback_keeps_the_steps_done_on_a_stop(run: Run, tx: Path) -> None:
    path = bridge_topology(tx / "lab.yaml", "lab", containers(20))
    result = stopped("step:10", "TERM", "apply", path, "--yes", "--no-rollback")
    assert result.returncode == 1, result.stderr
    assert errors(result)[1] == ("error: host local: kept the steps done (--no-rollback); run "
                                 "apply again to converge")  # fmt: skip
    assert netns_names() == set(sorted(containers(20))[:10])  # the first 10 steps, by name
    assert run("plan", path, "--detailed-exitcode").returncode == 2
    run("apply", path, "--yes", check=True)
    assert run("plan", path, "--detailed-exitcode").returncode == 0


def _take_terminal() -> None:
    """In the child: stdin, a terminal of its new session, becomes its controlling one."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_closing_the_terminal_rolls_back(run: Run, tx: Path) -> None:
    """The terminal netplan runs from closes (its master end): the kernel sends SIGHUP to
    its foreground process group. Its output goes to a file and a pipe, which outlive
    the terminal, to be read."""
    path = bridge_topology(tx / "lab.yaml", "lab", containers(20))
    total = steps_of(run, path)
    before = settled_snapshot()
    ready = tx / "ready"
    master, terminal = pty.openpty()
    with (tx / "out.txt").open("w") as out:
        apply = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.stop_harness", "step:25", "outside", "apply",
             str(path), "--yes"],
            cwd=REPO, stdin=terminal, stdout=out, stderr=subprocess.PIPE, text=True,
            start_new_session=True, preexec_fn=_take_terminal,
            env={**os.environ, "STOP_HARNESS_READY": str(ready)},
        )  # fmt: skip
    os.close(terminal)
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert time.monotonic() < deadline and apply.poll() is None
        time.sleep(0.02)
    os.close(master)
    _, err = apply.communicate(timeout=300)
    assert apply.returncode == 1, err
    lines = err.splitlines()
    assert lines[0] == interrupted(26, total, "HUP")
    assert lines[1].startswith("error: host local: rolled back 25 of 25 steps in ")
    assert lines[1].endswith(BACK)
    assert_returns_to(before)


def test_closing_the_terminal_it_prints_on_rolls_back(run: Run, tx: Path) -> None:
    """The same with its output on that terminal, as in a terminal window closed during an
    apply: the rollback's lines then fail to be written (EIO) and are discarded, and the
    exit code and the host are as above (it used to end in an internal error)."""
    path = bridge_topology(tx / "lab.yaml", "lab", containers(20))
    before = settled_snapshot()
    ready = tx / "ready"
    master, terminal = pty.openpty()
    apply = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.stop_harness", "step:25", "outside", "apply",
         str(path), "--yes"],
        cwd=REPO, stdin=terminal, stdout=terminal, stderr=terminal,
        start_new_session=True, preexec_fn=_take_terminal,
        env={**os.environ, "STOP_HARNESS_READY": str(ready)},
    )  # fmt: skip
    os.close(terminal)
    shown = b""
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert time.monotonic() < deadline and apply.poll() is None, shown.decode()
        if select.select([master], [], [], 0.02)[0]:
            shown += os.read(master, 65536)  # read as a terminal window would
    os.close(master)
    assert apply.wait(timeout=300) == 1
    assert_returns_to(before)
