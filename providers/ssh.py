"""The SSH transport: one persistent connection per host for a whole command.

Round trips per host and command (each an operation that waits for the host, counted in
`SSHConnection.round_trips`): connect (1, plus 2 per jump host), starting the cached agent on
one exec channel (1), then one per call. Only a host that does not have this agent yet
costs more: its first call finds the agent missing, and it is uploaded over SFTP and started
again. No command line is built from topology strings: requests
travel as JSON on the agent's stdin; the one shell line sent is fixed pieces, quoted.

Every call has a deadline (`CallTimeouts`): a host whose agent hangs (a stopped process, a
host frozen under load) becomes that host's error, and its worker is free again; the
other hosts go on.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import secrets
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko

from netplan.agent.bundle import agent_bundle
from providers.base import HostConnection
from providers.hostkeys import HostKeyPolicy, KeyCheck
from providers.ssh_errors import SSHError, connect_error, handshake_timeout

# paramiko logs what it raises too (a jump host's refused channel: "Secsh channel 0 open
# FAILED: ..."); with no handler of its own, Python's last resort would print that to
# stderr before netplan's one translated line. A handler on the root logger still gets it.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

AGENT_DIR = ".cache/netplan"
"""Where the agent is cached, relative to the login directory (where SFTP and exec start)."""
DEFAULT_KNOWN_HOSTS = Path.home() / ".ssh" / "known_hosts"
NO_PYTHON = 90
NO_SUDO = 91
NO_SUDO_COMMAND = 92
NO_AGENT = 93
"""Exit codes of the fixed shell line that starts the agent, when it cannot."""
READ_SIZE = 1 << 20
TIMEOUT_HINT = (
    "the host may be hung or overloaded (look at it over ssh: ps, dmesg); "
    "once it answers, run the command again: a re-run converges"
)
LOST_HINT = (
    "the host may be partly changed; once it can be reached again, run the command again: "
    "a re-run converges"
)


@dataclass(frozen=True)
class CallTimeouts:
    """How long a host's agent may take to answer one call before the host is given up."""

    apply: float = 120.0
    """Running a plan's steps: thousands of netlink requests, namespaces freed by the kernel
    (500 containers take a few seconds here)."""
    other: float = 30.0
    """observe and record: reading what the host has (500 containers: under a second)."""

    def of(self, op: object) -> float:
        return self.apply if op == "apply" else self.other


@dataclass(frozen=True)
class SSHTarget:
    """How to reach one host: what an inventory entry (or `vagrant ssh-config`) says."""

    host: str
    """The topology's name for the host."""
    address: str
    port: int = 22
    user: str = "root"
    keys: tuple[Path, ...] = ()
    """Identity files; none: ssh-agent and the usual ~/.ssh keys, as ssh does."""
    known_hosts: Path = DEFAULT_KNOWN_HOSTS
    host_keys: HostKeyPolicy = "verify"
    jump: SSHTarget | None = None
    underlay: str | None = None
    python: str = "python3"
    timeout: float = 10.0
    """Seconds for connecting and logging in."""
    call_timeouts: CallTimeouts = field(default_factory=CallTimeouts)

    @property
    def where(self) -> str:
        return f"{self.user}@{self.address}:{self.port}"

    @property
    def sudo(self) -> bool:
        """A user other than root runs the agent through `sudo -n`."""
        return self.user != "root"


class AgentMissing(Exception):
    """The host has no copy of this agent yet (the shell line exited with NO_AGENT)."""


class SSHConnection(HostConnection):
    """A host's agent, started once over SSH; every call is one JSON line out, one line back."""

    def __init__(self, target: SSHTarget, clients: list[paramiko.SSHClient]) -> None:
        super().__init__(target.host, target.underlay)
        self.target = target
        self.clients = clients
        """The host's client last; jump hosts' clients before it."""
        self.round_trips = 2 * len(clients) - 1
        """Operations that waited for the host: connecting (and a channel per jump host) so far."""
        self._channel: paramiko.Channel | None = None
        self._pending = b""
        """What the agent sent after the last complete line."""
        self._writing = threading.Lock()
        """Held while a line is sent: a cancel (from another thread) never lands inside a
        request (paramiko sends a long one in pieces)."""
        self._path = f"{AGENT_DIR}/{agent_bundle().name}"

    def start_agent(self) -> None:
        """Start the agent cached on the host. Whether it is there shows at the first call,
        which is then sent again once the agent is stored (`_install`): a host that has it
        costs no SFTP session and no stat."""
        transport = self.clients[-1].get_transport()
        try:
            channel = transport.open_session()
            channel.exec_command(agent_command(self.target, self._path))
            self.round_trips += 1
        except (paramiko.SSHException, OSError, EOFError) as error:
            raise SSHError(
                self.name, f"cannot start the agent on {self.target.where}: {error}"
            ) from error
        self._channel, self._pending = channel, b""

    def _install(self) -> None:
        """Store the agent on the host (unless another run just did), then start it."""
        transport = self.clients[-1].get_transport()
        try:
            sftp = paramiko.SFTPClient.from_transport(transport)
            self.round_trips += 1
            try:
                if not self._exists(sftp, self._path):
                    self._upload(sftp, agent_bundle().archive(), self._path)
            finally:
                sftp.close()
        except (paramiko.SSHException, OSError, EOFError) as error:
            raise SSHError(
                self.name, f"cannot store the agent on {self.target.where}: {error}"
            ) from error
        self.start_agent()

    def _exists(self, sftp: paramiko.SFTPClient, path: str) -> bool:
        self.round_trips += 1
        try:
            sftp.stat(path)
        except FileNotFoundError:
            return False
        return True

    def _upload(self, sftp: paramiko.SFTPClient, archive: bytes, path: str) -> None:
        """Write under a temporary name, then rename: no command ever runs half a file."""
        for directory in (str(Path(AGENT_DIR).parent), AGENT_DIR):
            if not self._exists(sftp, directory):
                sftp.mkdir(directory, 0o700)
                self.round_trips += 1
        partial = f"{path}.{secrets.token_hex(4)}.partial"
        sftp.putfo(io.BytesIO(archive), partial, confirm=False)
        sftp.posix_rename(partial, path)
        self.round_trips += 2

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.call_with_progress(request, None)

    def call_with_progress(
        self, request: dict[str, Any], progress: Callable[[dict[str, Any]], None] | None
    ) -> dict[str, Any]:
        """The agent's progress lines come before its answer, within the same round trip."""
        try:
            return self._call(request, progress)
        except AgentMissing:
            self._install()
        try:
            return self._call(request, progress)
        except AgentMissing:
            raise SSHError(
                self.name,
                f"the agent stored as ~/{self._path} on {self.target.where} is not there",
                "is the home directory of the user writable, and not cleaned on login?",
            ) from None

    def _call(
        self, request: dict[str, Any], progress: Callable[[dict[str, Any]], None] | None
    ) -> dict[str, Any]:
        if self._channel is None:
            raise SSHError(self.name, "the agent is not running (never started, or given up)")
        timeout = self.target.call_timeouts.of(request.get("op"))
        if request.get("op") == "lock":  # the agent may wait that long for the host lock
            timeout += float(request.get("timeout", 0))
        deadline = time.monotonic() + timeout
        try:
            self._channel.settimeout(timeout)
            with self._writing:
                self._channel.sendall(json.dumps(request).encode() + b"\n")
            line = self._read_line(self._channel, deadline)
            while progress is not None and (report := _progress_report(line)) is not None:
                progress(report)
                line = self._read_line(self._channel, deadline)
        except TimeoutError as error:
            self._give_up()
            raise SSHError(
                self.name, f"the agent did not answer within {timeout:g} s", TIMEOUT_HINT
            ) from error
        except (paramiko.SSHException, OSError, EOFError) as error:
            if self._channel.exit_status_ready():
                raise self._agent_exited(request.get("op")) from error
            raise self._lost(request.get("op"), f": {error}") from error
        self.round_trips += 1
        if not line:
            raise self._agent_exited(request.get("op"))
        try:
            answer = json.loads(line)
        except json.JSONDecodeError:
            answer = None
        if not isinstance(answer, dict):
            raise SSHError(
                self.name,
                f"the agent answered with something that is not a JSON object: {line[:60]!r}",
                "does the login shell print text in non-interactive sessions (~/.bashrc)?",
            )
        return answer

    def _read_line(self, channel: paramiko.Channel, deadline: float) -> bytes:
        """The agent's next line (b"" at the end of its output); TimeoutError at `deadline`."""
        chunks = [self._pending]
        while b"\n" not in chunks[-1]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            channel.settimeout(remaining)
            chunk = channel.recv(READ_SIZE)
            if not chunk:
                break
            chunks.append(chunk)
        line, newline, self._pending = b"".join(chunks).partition(b"\n")
        return line + newline

    def cancel(self, reason: str) -> None:
        """A line the agent reads between an apply's steps (or before the next apply, if
        none runs yet), and never answers."""
        channel = self._channel
        if channel is not None and not channel.closed:
            line = json.dumps({"op": "cancel", "reason": reason}).encode() + b"\n"
            # If the connection is going, the agent rolls back when it notices.
            with self._writing, contextlib.suppress(paramiko.SSHException, OSError, EOFError):
                channel.sendall(line)

    def _give_up(self) -> None:
        """After a call that timed out: its answer may still come, so the channel is of no
        more use; closing it tells the host's sshd to end the agent's session."""
        assert self._channel is not None
        self._channel.close()
        self._channel = None

    def _lost(self, op: object, detail: str = "") -> SSHError:
        return SSHError(
            self.name, f"lost the connection to {self.target.where} during {op}{detail}", LOST_HINT
        )

    def _agent_exited(self, op: object) -> SSHError | AgentMissing:
        """Why the agent's output ended: its exit status, or no status at all when the
        connection itself went (sshd killed, the host rebooted, the network cut)."""
        assert self._channel is not None
        status = self._channel.recv_exit_status()
        transport = self.clients[-1].get_transport()
        if status == -1 or transport is None or not transport.is_active():
            return self._lost(op)
        if status == NO_AGENT:
            return AgentMissing()
        user, python = self.target.user, self.target.python
        known = {
            NO_PYTHON: (
                f"{python} was not found on {self.target.where}",
                "install python3 on the host: the agent needs nothing else",
            ),
            NO_SUDO_COMMAND: (
                f"sudo is not installed on the host: {user} needs it to run the agent",
                "install sudo there, or connect as root",
            ),
            NO_SUDO: (
                f"sudo -n refused to run the agent as root for {user}",
                f"allow {user} passwordless sudo, or connect as root",
            ),
        }
        if status in known:
            return SSHError(self.name, *known[status])
        errors = self._channel.makefile_stderr("rb").read().decode(errors="replace").splitlines()
        last = next((text for text in reversed(errors) if text.strip()), "no message")
        return SSHError(self.name, f"the agent exited with status {status}: {last}")

    def exec_in(self, spec: dict[str, Any]) -> int:
        """`netplan exec` on an exec channel of its own (providers/ssh_exec.py)."""
        from providers import ssh_exec

        command = ssh_exec.exec_command(self.target.python, self._path, spec, self.target.sudo)
        return ssh_exec.run(self.name, self.clients[-1].get_transport(), command)

    def close(self) -> None:
        if self._channel is not None and not self._channel.closed:
            self._channel.shutdown_write()
        for client in reversed(self.clients):
            client.close()


def _progress_report(line: bytes) -> dict[str, Any] | None:
    """What a progress line (`{"progress": {...}, "version": N}`) reports; None for any
    other line, which is the answer."""
    if not line.startswith(b'{"progress"'):
        return None
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return None
    report = data.get("progress") if isinstance(data, dict) and "ok" not in data else None
    return report if isinstance(report, dict) else None


def agent_command(target: SSHTarget, path: str) -> str:
    """The one shell line sent to a host: fixed words, the interpreter and path quoted."""
    python, agent = shlex.quote(target.python), shlex.quote(path)
    checks = [f"command -v {python} >/dev/null 2>&1 || exit {NO_PYTHON}"]
    run = f"exec {python} {agent}"
    if target.sudo:
        checks.append(f"command -v sudo >/dev/null 2>&1 || exit {NO_SUDO_COMMAND}")
        checks.append(f"sudo -n true 2>/dev/null || exit {NO_SUDO}")
        run = f"exec sudo -n {python} {agent}"
    checks.append(f"test -f {agent} || exit {NO_AGENT}")
    return "; ".join([*checks, run])


def dial(target: SSHTarget, host: str) -> list[paramiko.SSHClient]:
    """SSH clients to `target`, through its jump hosts: the jump hosts first, the target last."""
    clients: list[paramiko.SSHClient] = []
    sock: paramiko.Channel | None = None
    started: float | None = None
    where = target.where
    try:
        if target.jump is not None:
            clients = dial(target.jump, host)
            where = f"{target.where} (through {target.jump.where})"
            transport = clients[-1].get_transport()
            sock = transport.open_channel(
                "direct-tcpip",
                (target.address, target.port),
                ("127.0.0.1", 0),
                timeout=target.timeout,
            )
        client = paramiko.SSHClient()
        clients.append(client)
        KeyCheck(target.known_hosts, target.host_keys).install(client)
        started = time.monotonic()
        client.connect(
            target.address,
            port=target.port,
            username=target.user,
            key_filename=[str(key) for key in target.keys] or None,
            look_for_keys=not target.keys,
            allow_agent=not target.keys,
            timeout=target.timeout,
            banner_timeout=target.timeout,
            auth_timeout=target.timeout,
            sock=sock,
        )
    except (paramiko.SSHException, OSError, EOFError) as error:
        hung = handshake_hung(clients[-1] if clients else None, started, target.timeout)
        for client in reversed(clients):
            client.close()
        if hung:
            raise handshake_timeout(host, where, target.timeout) from error
        raise connect_error(host, where, target.known_hosts, error) from error
    return clients


def handshake_hung(client: paramiko.SSHClient | None, started: float | None,
                   timeout: float) -> bool:
    """The target took the TCP connection, then did not finish the SSH handshake before
    `timeout` (its sshd stopped or swamped). paramiko stops waiting for the handshake
    without an error of its own, then fails on the missing session ("No existing
    session"), so this is told from the transport's state and the time spent, not from
    paramiko's words."""
    transport = client.get_transport() if client is not None else None
    return (transport is not None and started is not None
            and not transport.initial_kex_done and time.monotonic() - started >= timeout)


def connect(target: SSHTarget) -> SSHConnection:
    """Open the host's connection and start its agent; SSHError says why it could not."""
    connection = SSHConnection(target, dial(target, target.host))
    try:
        connection.start_agent()
    except BaseException:
        connection.close()
        raise
    return connection
