"""One simulated host: its own network, mount, UTS, IPC and PID namespaces running a real sshd.

The host's sshd is PID 1 of its PID namespace: stopping it (by its PID, checked against its
start time so a reused PID is never signalled) takes every process, nested namespace and
the host's veth with it. Its root is an overlay of this machine's root with a private
tmpfs on top, so what is written on one host (the agent cache in /root, /etc/netns, …) is
seen neither by the other hosts nor by this machine; /run, /proc and /sys are its own, and
root's home and /etc/netns start empty, like a fresh machine's (this machine's are not shown).
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from providers.lab_net import LabError, attach

SSHD = "/usr/sbin/sshd"
START_TIMEOUT = 10.0

SCRIPT = r"""
set -eu
name=$1 dir=$2 address=$3
root=$dir/root
mount -t tmpfs -o mode=755 "lab-$name" "$root"
mkdir "$root/upper" "$root/work" "$root/merged"
mount -t overlay -o "lowerdir=/,upperdir=$root/upper,workdir=$root/work" "lab-$name" "$root/merged"
cd "$root/merged"
mount -t proc proc proc
mount -t sysfs sysfs sys
mount --rbind /dev dev
mount -t tmpfs -o mode=755 "lab-$name" run
mount -t tmpfs -o mode=700 "lab-$name" root
mkdir -p etc/netns
mount -t tmpfs -o mode=755 "lab-$name" etc/netns
mkdir -p run/netns run/sshd run/lock run/lab
mount --bind "$dir" run/lab
mount -o remount,bind,ro run/lab
pivot_root . .
umount -l .
cd /
hostname "$name"
printf '127.0.1.1\t%s\n' "$name" >> /etc/hosts
ip link set lo up
read -r go
ip address add "$address/24" dev ul0
ip link set ul0 up
echo ready
exec /usr/sbin/sshd -D -e -f /run/lab/sshd_config </dev/null >&2
"""
"""Runs inside the new namespaces; waits on stdin until the parent has made its `ul0`."""

UNSHARE = [
    "unshare", "--net", "--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child",
    "--mount-proc", "--propagation", "private",
]  # fmt: skip


@dataclass(frozen=True)
class Process:
    """A host's PID 1 (its sshd), and when it started: together they name it for good."""

    pid: int
    started: int
    """Start time in clock ticks after boot (/proc/PID/stat field 22)."""

    def alive(self) -> bool:
        return self.pid > 0 and start_time(self.pid) == self.started

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it has not gone after `timeout` seconds."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not self.alive():
                return
            with suppress(ProcessLookupError):  # it exited since alive() looked
                os.kill(self.pid, sig)
            deadline = time.monotonic() + timeout
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.005)
        if self.alive():
            raise LabError(f"process {self.pid} did not stop")


def start_time(pid: int) -> int | None:
    """Its start time, or None if there is no such process or it has exited (a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


@dataclass
class Starting:
    """A host being brought up: the unshare process, and the files it talks through."""

    name: str
    address: str
    unshare: subprocess.Popen[bytes]
    log: Path


def spawn(name: str, address: str, directory: Path) -> Starting:
    log = directory / "sshd.log"
    (directory / "root").mkdir(exist_ok=True)
    with log.open("ab") as output:
        unshare = subprocess.Popen(
            [*UNSHARE, "/bin/sh", "-c", SCRIPT, "lab-host", name, str(directory), address],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=output,
            start_new_session=True,
        )
    return Starting(name, address, unshare, log)


def release(host: Starting) -> Process:
    """Give the host its underlay link and let it go on; its PID 1 as a Process."""
    try:
        pid = child_of(host.unshare.pid)
        started = start_time(pid)
        if started is None:
            raise LabError("it exited while starting")
        attach(host.name, pid, host.address)
        assert host.unshare.stdin is not None
        host.unshare.stdin.write(b"go\n")
        host.unshare.stdin.close()
    except (LabError, OSError) as error:
        raise abandon(host, error) from None
    return Process(pid, started)


def wait_ready(host: Starting) -> None:
    """Until the host has its address and its sshd answers."""
    assert host.unshare.stdout is not None
    try:
        if read_line(host.unshare.stdout, START_TIMEOUT) != b"ready\n":
            raise LabError("it did not configure its underlay")
        host.unshare.stdout.close()
        wait_for_sshd(host.address, START_TIMEOUT)
    except (LabError, OSError) as error:
        raise abandon(host, error) from None


def abandon(host: Starting, error: Exception) -> LabError:
    """Kill what was started for the host; the error, with the last line of its log."""
    host.unshare.kill()
    host.unshare.wait()
    return LabError(
        f"lab host {host.name} failed to start: {error}: {last_line(host.log)} (see {host.log})"
    )


def child_of(parent: int, timeout: float = START_TIMEOUT) -> int:
    """The process unshare forked: the host's PID 1, seen from here."""
    children = Path(f"/proc/{parent}/task/{parent}/children")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = children.read_text().split() if children.exists() else []
        if text:
            return int(text[0])
        if start_time(parent) is None:
            break
        time.sleep(0.001)
    raise LabError("unshare did not start the host")


def read_line(stream: IO[bytes], timeout: float) -> bytes:
    """One line from a pipe, or b"" after `timeout` seconds."""
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else b""


def wait_for_sshd(address: str, timeout: float) -> None:
    """Until sshd on `address` sends its banner (the address is up before sshd starts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, 22), timeout=1.0) as probe:
                if probe.recv(8).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.005)
    raise LabError(f"sshd on {address} did not answer")


def last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no message"
