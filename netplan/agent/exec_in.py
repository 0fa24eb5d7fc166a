"""`netplan exec`'s host side: run a command inside a container, stdin, stdout and stderr
passed through, its exit code returned.

With its process running (and proven to be the recorded one), the command joins that
process's network, UTS and mount namespaces, so it sees its hostname and volumes.
Without one, it enters the container's network namespace with a UTS namespace carrying
the container's hostname and a mount namespace set up like `ip netns exec`'s.

The local provider calls `run` in-process; over SSH the agent bundle runs `main` on a
channel of its own. Exit codes as `docker exec` gives them: the command's own, 125 when
netplan could not enter the container (among others: its namespace is missing, or is not
this topology's; in `host` mode, the topology is not applied on this host:
netplan/agent/netns_owner.py), 126 when the command cannot be run, 127
when it is not found.

While the command runs, netplan ignores SIGINT, as a shell (and POSIX `system()`) does
for its foreground command: the terminal's Ctrl-C reaches the whole process group, the
command decides what it means, and its exit status (130 when SIGINT ended it) is
netplan's. Handling it instead would race the wait: a SIGINT handled by another thread
runs its Python handler only after `waitpid` has already reaped the command.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from netplan.agent import enter, nsutil, process
from netplan.agent import process_record as records
from netplan.agent.netns_owner import NotTheContainer, check_applied, check_inside, missing
from netplan.agent.process_record import DamagedRecord
from netplan.agent.resources import ROOT

CANNOT_ENTER = 125
CANNOT_RUN = 126
NOT_FOUND = 127


def run(spec: dict[str, Any]) -> int:
    """Fork; the child enters the container and execs; the exit code of the command
    (128 + N for a signal N, as shells report it)."""
    netns = spec["netns"]
    try:
        if netns == ROOT:
            check_applied(spec["topology"], spec["host"], spec["file"])
        elif not os.path.exists(nsutil.path_of(netns)):
            raise missing(spec["topology"], netns)
    except NotTheContainer as refusal:
        _refuse(spec, refusal)
        return CANNOT_ENTER
    pid = _running(spec["topology"], spec["container"], netns)
    with _sigint_ignored() as command_sigint:
        child = os.fork()
        if child == 0:
            signal.signal(signal.SIGINT, command_sigint)
            _child(spec, pid)
        _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


@contextmanager
def _sigint_ignored() -> Iterator[signal.Handlers]:
    """SIGINT ignored in this process until the block ends; yields what the command
    should get: ignored if netplan was started with it ignored (`nohup`, `&`), else the
    default (a Python handler would not survive exec anyway)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield signal.SIG_IGN if previous == signal.SIG_IGN else signal.SIG_DFL
    finally:
        signal.signal(signal.SIGINT, previous)


def _running(topology: str, container: str, netns: str) -> int | None:
    """The PID of the container's process when it runs, in its namespace; else None."""
    try:
        record = records.read(records.directory(topology, container))
    except DamagedRecord:
        return None
    if record is None or record.failed or not records.alive(record):
        return None
    path = "/proc/thread-self/ns/net" if netns == ROOT else nsutil.path_of(netns)
    if records.netns_inode(record.pid) != os.stat(path).st_ino:
        return None
    return record.pid


def _child(spec: dict[str, Any], pid: int | None) -> None:
    try:
        if pid is not None:
            enter.join(pid)
            os.chdir(spec["workdir"])
        else:
            netns = spec["netns"]
            fd = None if netns == ROOT else nsutil.open_named(netns)
            enter.container(fd, netns, spec["hostname"], [], spec["workdir"])
        if spec["netns"] != ROOT:
            check_inside(spec["topology"], spec["netns"])
    except OSError as error:
        _say(f"cannot enter container {spec['container']}: {error.strerror or error}")
        os._exit(CANNOT_ENTER)
    except NotTheContainer as refusal:
        _refuse(spec, refusal)
        os._exit(CANNOT_ENTER)
    env = process.environment(spec["env"], spec["hostname"])
    if "TERM" in os.environ:
        env.setdefault("TERM", os.environ["TERM"])
    argv = spec["argv"]
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as error:
        _say(f"cannot run {argv[0]}: {(error.strerror or str(error)).lower()}")
        os._exit(NOT_FOUND if error.errno == errno.ENOENT else CANNOT_RUN)


def _refuse(spec: dict[str, Any], refusal: NotTheContainer) -> None:
    _say(f"container {spec['container']} on host {spec['host']}: {refusal}")


def _say(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()


def main() -> None:
    """`python3 -c '...' AGENT SPEC`: the spec is JSON in the last argument."""
    sys.exit(run(json.loads(sys.argv[-1])))
