"""SSH failures in words: paramiko and socket errors translated at the boundary, naming the host."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import paramiko

from netplan.errors import NetplanError, Problem


class SSHError(NetplanError):
    """A host could not be reached or used over SSH: one line with the host, the cause, a hint."""

    def __init__(self, host: str, message: str, hint: str = "") -> None:
        self.host, self.message, self.hint = host, message, hint
        super().__init__(self.lines()[0])

    def lines(self) -> list[str]:
        return [problem.render() for problem in self.as_problems()]

    def as_problems(self) -> list[Problem]:
        return [Problem(f"host {self.host}: {self.message}", hint=self.hint)]


class UnknownHostKey(paramiko.SSHException):  # type: ignore[misc]
    """Raised by the verifying host-key policy: the key is not in known_hosts."""

    def __init__(self, name: str, key: paramiko.PKey, known_hosts: Path) -> None:
        super().__init__(f"unknown host key for {name}")
        self.name, self.key, self.known_hosts = name, key, known_hosts


def fingerprint(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.fingerprint}"


def connect_error(host: str, where: str, known_hosts: Path, error: Exception) -> SSHError:
    """The error of connecting to `where` (user@address:port), in words."""
    if isinstance(error, UnknownHostKey):
        return SSHError(
            host,
            f"refused: the host key of {error.name} ({fingerprint(error.key)}) "
            f"is not in {error.known_hosts}",
            f"check the fingerprint, then add it: ssh-keyscan {error.name} >> "
            f"{error.known_hosts}; or set trust_on_first_use: true in the inventory",
        )
    if isinstance(error, paramiko.BadHostKeyException):
        return SSHError(
            host,
            f"refused: the host key of {error.hostname} has CHANGED (now {fingerprint(error.key)}, "
            f"{known_hosts} has {fingerprint(error.expected_key)})",
            f"if the host was reinstalled, remove the old key: "
            f"ssh-keygen -R {error.hostname} -f {known_hosts}",
        )
    if isinstance(error, paramiko.PasswordRequiredException):
        return SSHError(
            host,
            f"the key for {where} is protected by a passphrase",
            "load it into ssh-agent and leave `key` out of the inventory",
        )
    if isinstance(error, paramiko.AuthenticationException):
        return SSHError(
            host,
            f"{where} refused authentication: {error}",
            "check the user and key in the inventory, and the host's authorized_keys",
        )
    if isinstance(error, paramiko.ChannelException):
        return SSHError(
            host,
            f"the jump host could not open a connection to {where}: {error.text}",
            "check the address and port as the jump host sees them",
        )
    if isinstance(error, TimeoutError):
        return SSHError(host, f"timed out connecting to {where}", "is the host up and reachable?")
    if isinstance(error, OSError):
        reason = os_reason(error)
        return SSHError(host, f"cannot connect to {where}: {reason}", "is the host up, with sshd?")
    return SSHError(host, f"SSH to {where} failed: {error}")


def handshake_timeout(host: str, where: str, timeout: float) -> SSHError:
    """`where` took the connection and then did not answer within the connect timeout."""
    return SSHError(
        host,
        f"{where} took the connection but did not answer the SSH handshake within "
        f"{timeout:g} s (the connect timeout)",
        "is the host, or its sshd, stopped or overloaded? with an ssh inventory, a slow "
        "host can be given a larger `timeout:`",
    )


def os_reason(error: OSError) -> str:
    if isinstance(error, paramiko.ssh_exception.NoValidConnectionsError):
        codes = {e.errno for e in error.errors.values() if e.errno}
        if codes:
            return "; ".join(sorted(os.strerror(code).lower() for code in codes))
    if error.errno is not None and error.errno != errno.EIO:
        return os.strerror(error.errno).lower()
    return str(error) or type(error).__name__
