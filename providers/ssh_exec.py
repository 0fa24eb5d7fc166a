"""`netplan exec` over SSH: the agent's exec entry (netplan/agent/exec_in.py) run on an
exec channel of its own, stdin, stdout and stderr passed through, its exit status returned.

The command line is fixed pieces plus two quoted arguments: the agent's path and the
JSON spec (container, namespace, hostname, env, argv). Nothing is interpreted by the
remote shell but the fixed words.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shlex
import sys
import threading
from typing import Any, BinaryIO

import paramiko

from providers.ssh_errors import SSHError

ENTRY = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from netplan.agent.exec_in import main; main()"
)
"""Runs from the cached zipapp: exec_in needs nothing but the standard library."""
CHUNK = 1 << 15
STDIN = 0


def exec_command(python: str, agent: str, spec: dict[str, Any], sudo: bool) -> str:
    words = [python, "-c", ENTRY, agent, json.dumps(spec)]
    line = " ".join(shlex.quote(word) for word in words)
    return f"exec sudo -n {line}" if sudo else f"exec {line}"


def run(host: str, transport: paramiko.Transport, command: str) -> int:
    """Run `command` on a new channel with this process's stdio; its exit status."""
    try:
        channel = transport.open_session()
        channel.exec_command(command)
    except (paramiko.SSHException, OSError, EOFError) as error:
        raise SSHError(host, f"cannot start the command: {error}") from error
    feeder = threading.Thread(target=_feed, args=(channel, STDIN), daemon=True)
    feeder.start()
    _pump(channel, sys.stdout.buffer, sys.stderr.buffer)
    status: int = channel.recv_exit_status()
    channel.close()
    if status == -1:  # the connection went before the command's exit status came
        raise SSHError(host, "lost the connection while the command ran",
                       "it may still be running on the host")
    return status


def _pump(channel: paramiko.Channel, out: BinaryIO, err: BinaryIO) -> None:
    """The command's stdout and stderr to ours until it ends them. Up to their end, not
    up to the exit status: sshd may send that before the last of the output."""
    while True:
        moved = False
        if channel.recv_ready():
            out.write(channel.recv(CHUNK))
            out.flush()
            moved = True
        if channel.recv_stderr_ready():
            err.write(channel.recv_stderr(CHUNK))
            err.flush()
            moved = True
        if moved:
            continue
        if channel.eof_received or channel.closed:
            return
        select.select([channel], [], [], 0.1)


def _feed(channel: paramiko.Channel, fd: int) -> None:
    """stdin to the command, then EOF. Reads the descriptor itself, not sys.stdin: a
    daemon thread blocked inside a buffered reader aborts the interpreter at exit when
    the command ends first (a terminal, or a pipe still open)."""
    with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
        while chunk := os.read(fd, CHUNK):  # OSError: no stdin at all, or the channel closed
            channel.sendall(chunk)
    with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
        channel.shutdown_write()
