"""The SSH transport: one persistent connection per host for a whole command.

Round trips per host and command (each an operation that waits for the host, counted in
`SSHConnection.round_trips`): connect (1, plus 2 per jump host), SFTP open and a stat of the
cached agent (2), the upload only when the agent is missing, starting the agent on one exec
channel (1), then one per call. No command line is built from topology strings: requests
travel as JSON on the agent's stdin; the one shell line sent is fixed pieces, quoted.
"""

from __future__ import annotations

import io
import json
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from netplan.agent.bundle import agent_bundle
from providers.base import HostConnection
from providers.hostkeys import HostKeyPolicy, KeyCheck
from providers.ssh_errors import SSHError, connect_error

AGENT_DIR = ".cache/netplan"
"""Where the agent is cached, relative to the login directory (where SFTP and exec start)."""
DEFAULT_KNOWN_HOSTS = Path.home() / ".ssh" / "known_hosts"
NO_PYTHON = 90
NO_SUDO = 91
NO_SUDO_COMMAND = 92
"""Exit codes of the fixed shell line that starts the agent, when it cannot."""


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

    @property
    def where(self) -> str:
        return f"{self.user}@{self.address}:{self.port}"

    @property
    def sudo(self) -> bool:
        """A user other than root runs the agent through `sudo -n`."""
        return self.user != "root"


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
        self._stdout: paramiko.ChannelFile | None = None

    def start_agent(self) -> None:
        """Store the agent on the host if it is not there yet, then start it."""
        bundle = agent_bundle()
        path = f"{AGENT_DIR}/{bundle.name}"
        transport = self.clients[-1].get_transport()
        try:
            sftp = paramiko.SFTPClient.from_transport(transport)
            self.round_trips += 1
            try:
                if not self._exists(sftp, path):
                    self._upload(sftp, bundle.archive(), path)
            finally:
                sftp.close()
            channel = transport.open_session()
            channel.exec_command(agent_command(self.target, path))
            self.round_trips += 1
        except (paramiko.SSHException, OSError, EOFError) as error:
            raise SSHError(
                self.name, f"cannot start the agent on {self.target.where}: {error}"
            ) from error
        self._channel, self._stdout = channel, channel.makefile("rb")

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
        if self._channel is None or self._stdout is None:
            raise SSHError(self.name, "the agent is not started")
        try:
            self._channel.sendall(json.dumps(request).encode() + b"\n")
            line = self._stdout.readline()
        except (paramiko.SSHException, OSError, EOFError) as error:
            if self._channel.exit_status_ready():
                raise self._agent_exited() from error
            raise SSHError(
                self.name, f"lost the connection to {self.target.where}: {error}", "run it again"
            ) from error
        self.round_trips += 1
        if not line:
            raise self._agent_exited()
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

    def _agent_exited(self) -> SSHError:
        assert self._channel is not None
        status = self._channel.recv_exit_status()
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

    def close(self) -> None:
        if self._channel is not None and not self._channel.closed:
            self._channel.shutdown_write()
        for client in reversed(self.clients):
            client.close()


def agent_command(target: SSHTarget, path: str) -> str:
    """The one shell line sent to a host: fixed words, the interpreter and path quoted."""
    python, agent = shlex.quote(target.python), shlex.quote(path)
    checks = [f"command -v {python} >/dev/null 2>&1 || exit {NO_PYTHON}"]
    run = f"exec {python} {agent}"
    if target.sudo:
        checks.append(f"command -v sudo >/dev/null 2>&1 || exit {NO_SUDO_COMMAND}")
        checks.append(f"sudo -n true 2>/dev/null || exit {NO_SUDO}")
        run = f"exec sudo -n {python} {agent}"
    return "; ".join([*checks, run])


def dial(target: SSHTarget, host: str) -> list[paramiko.SSHClient]:
    """SSH clients to `target`, through its jump hosts: the jump hosts first, the target last."""
    clients: list[paramiko.SSHClient] = []
    sock: paramiko.Channel | None = None
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
        for client in reversed(clients):
            client.close()
        raise connect_error(host, where, target.known_hosts, error) from error
    return clients


def connect(target: SSHTarget) -> SSHConnection:
    """Open the host's connection and start its agent; SSHError says why it could not."""
    connection = SSHConnection(target, dial(target, target.host))
    try:
        connection.start_agent()
    except BaseException:
        connection.close()
        raise
    return connection
