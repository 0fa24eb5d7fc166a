"""Feedback while a command works: nothing extra in pipes and CI logs, `--quiet` (errors
and one line), `--verbose` (each stage with its time, each step), and a progress display
on a terminal that gives way to the command's own output."""

from __future__ import annotations

import errno
import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

from tests.e2e.hostview import TOPOLOGIES, Run

DEFAULT_BRIDGE = TOPOLOGIES / "default-bridge.yaml"
ANSI = "\x1b["


def on_terminal(*args: str) -> tuple[int, str]:
    """netplan with stdin, stdout and stderr on a pseudo-terminal (120 columns): its exit
    code and everything the terminal received."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    command = subprocess.Popen([sys.executable, "-m", "netplan", *args], stdin=follower,
                               stdout=follower, stderr=follower, env={**env, "TERM": "xterm"})
    os.close(follower)
    received = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError as error:  # EIO: the terminal's last writer closed it
            assert error.errno == errno.EIO
            break
        if not chunk:
            break
        received += chunk
    os.close(leader)
    return command.wait(timeout=60), received.decode(errors="replace")


def test_pipes_get_no_progress_and_no_colour(run: Run, clean_host: None) -> None:
    applied = run("apply", DEFAULT_BRIDGE, "--yes", check=True)
    assert applied.stderr == ""
    assert ANSI not in applied.stdout
    assert applied.stdout.startswith("host local: 14 to create")
    assert applied.stdout.splitlines()[-1].startswith("Apply complete: 14 steps on 1 host")


def test_quiet_prints_errors_and_one_line(run: Run, clean_host: None) -> None:
    planned = run("--quiet", "plan", DEFAULT_BRIDGE, "--detailed-exitcode")
    assert planned.returncode == 2
    assert planned.stdout == "plan: 14 to create, 0 to update, 0 to replace, 0 to delete on " \
                             "1 host(s)\n"
    applied = run("-q", "apply", DEFAULT_BRIDGE, "--yes", check=True)
    assert applied.stderr == "" and len(applied.stdout.splitlines()) == 1
    assert applied.stdout.startswith("Apply complete: 14 steps on 1 host in ")
    assert run("-q", "check", DEFAULT_BRIDGE).stdout == (
        f"in sync: the hosts match {DEFAULT_BRIDGE}\n")
    subprocess.run(["ip", "-n", "alpine1", "link", "set", "eth0", "mtu", "1300"], check=True)
    drift = run("-q", "check", DEFAULT_BRIDGE)
    assert drift.returncode == 2 and drift.stderr == ""
    assert drift.stdout == f"not in sync: 1 drift (netplan check {DEFAULT_BRIDGE} names each)\n"
    assert run("-q", "verify", DEFAULT_BRIDGE, check=True).stdout == (
        "verify: all 4 checks passed\n")
    bad = run("-q", "check", "/dev/null")
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.startswith("error: /dev/null: ") and len(bad.stderr.splitlines()) == 1
    destroyed = run("-q", "destroy", DEFAULT_BRIDGE, "--yes", check=True)
    assert destroyed.stdout.startswith("Destroy complete: ") and destroyed.stdout.count("\n") == 1


def test_verbose_shows_each_stage_and_step(run: Run, clean_host: None) -> None:
    plain = run("plan", DEFAULT_BRIDGE, check=True).stdout
    applied = run("--verbose", "apply", DEFAULT_BRIDGE, "--yes", check=True)
    assert applied.stdout.startswith(plain)  # the output itself is unchanged
    lines = applied.stderr.splitlines()
    assert ANSI not in applied.stderr
    for stage in ("connect", "observe", "plan", "apply", "verify"):
        assert any(line.startswith(f"local: {stage} done in ") for line in lines), stage
    steps = [line for line in lines if line.startswith("local: [")]
    assert steps[0] == "local: [1/14] + netns alpine1"
    assert len(steps) == 14 and steps[-1].startswith("local: [14/14] ")


def test_a_terminal_shows_progress_then_the_result(clean_host: None) -> None:
    code, shown = on_terminal("apply", str(DEFAULT_BRIDGE), "--yes")
    assert code == 0, shown
    assert ANSI in shown
    assert "local" in shown and "observe" in shown  # the display: host and stage
    assert "+ netns alpine1" in shown
    assert "Apply complete: 14 steps on 1 host" in shown
    code, shown = on_terminal("--quiet", "check", str(DEFAULT_BRIDGE))
    assert code == 0 and "observe" not in shown
    assert shown.strip() == f"in sync: the hosts match {DEFAULT_BRIDGE}"


def test_json_on_a_terminal_asks_no_question(run: Run, clean_host: None) -> None:
    """The question would go into the JSON on stdout, before a plan the user never saw:
    refused, nothing changed (terraform's `apply -json` asks for -auto-approve too)."""
    code, received = on_terminal("apply", str(DEFAULT_BRIDGE), "--json")
    assert code == 1 and "Apply these changes?" not in received
    assert "apply --json asks no question" in received
    assert run("plan", DEFAULT_BRIDGE, "--detailed-exitcode").returncode == 2
