"""The SSH transport's pure parts: the one shell line, host-key policies, errors in words."""

from __future__ import annotations

import errno
import shlex
from pathlib import Path

import paramiko
import pytest

from providers.hostkeys import KeyCheck
from providers.lab_keys import ensure_key
from providers.ssh import (
    NO_AGENT,
    NO_PYTHON,
    NO_SUDO,
    NO_SUDO_COMMAND,
    SSHTarget,
    agent_command,
)
from providers.ssh_errors import UnknownHostKey, connect_error

PATH = ".cache/netplan/agent-0123456789abcdef.pyz"


def test_root_runs_the_agent_directly() -> None:
    line = agent_command(SSHTarget("hostA", "10.0.0.1"), PATH)
    assert line == (
        f"command -v python3 >/dev/null 2>&1 || exit {NO_PYTHON}; "
        f"test -f {PATH} || exit {NO_AGENT}; exec python3 {PATH}"
    )


def test_another_user_runs_it_through_sudo() -> None:
    line = agent_command(SSHTarget("hostA", "10.0.0.1", user="vagrant"), PATH)
    assert f"command -v sudo >/dev/null 2>&1 || exit {NO_SUDO_COMMAND}" in line
    assert f"sudo -n true 2>/dev/null || exit {NO_SUDO}" in line
    assert line.endswith(f"exec sudo -n python3 {PATH}")


def test_the_interpreter_from_the_inventory_is_quoted() -> None:
    python = "/opt/my python/bin/python3; rm -rf /"
    line = agent_command(SSHTarget("hostA", "10.0.0.1", python=python), PATH)
    words = shlex.split(line)
    assert words[-3:] == ["exec", python, PATH]
    assert words.count(python) == 2 and "rm" not in words


@pytest.fixture
def key(tmp_path: Path) -> paramiko.PKey:
    ensure_key(tmp_path / "host_key")
    return paramiko.Ed25519Key(filename=str(tmp_path / "host_key"))


def test_an_unknown_key_is_refused_by_default(tmp_path: Path, key: paramiko.PKey) -> None:
    check = KeyCheck(tmp_path / "known_hosts", "verify")
    with pytest.raises(UnknownHostKey):
        check.missing_host_key(paramiko.SSHClient(), "10.0.0.1", key)
    assert not (tmp_path / "known_hosts").exists()


def test_trust_on_first_use_remembers_the_key(tmp_path: Path, key: paramiko.PKey) -> None:
    known = tmp_path / "ssh" / "known_hosts"
    KeyCheck(known, "trust-on-first-use").missing_host_key(paramiko.SSHClient(), "[h]:2222", key)
    assert known.stat().st_mode & 0o777 == 0o600
    client = paramiko.SSHClient()
    KeyCheck(known, "verify").install(client)
    assert client.get_host_keys().lookup("[h]:2222")[key.get_name()] == key


def test_accept_takes_any_key_and_remembers_none(tmp_path: Path, key: paramiko.PKey) -> None:
    KeyCheck(tmp_path / "known_hosts", "accept").missing_host_key(paramiko.SSHClient(), "h", key)
    assert not (tmp_path / "known_hosts").exists()


def errors(key: paramiko.PKey, known: Path) -> dict[str, tuple[Exception, str]]:
    refused = paramiko.ssh_exception.NoValidConnectionsError(
        {("10.0.0.1", 22): OSError(errno.ECONNREFUSED, "refused")}
    )
    return {
        "unknown key": (
            UnknownHostKey("10.0.0.1", key, known),
            f"host hostA: refused: the host key of 10.0.0.1 (ssh-ed25519 {key.fingerprint}) "
            f"is not in {known} (hint: check the fingerprint, then add it: ssh-keyscan 10.0.0.1 "
            f">> {known}; or set trust_on_first_use: true in the inventory)",
        ),
        "changed key": (
            paramiko.BadHostKeyException("10.0.0.1", key, key),
            "host hostA: refused: the host key of 10.0.0.1 has CHANGED",
        ),
        "refused": (
            refused,
            "host hostA: cannot connect to root@10.0.0.1:22: connection refused "
            "(hint: is the host up, with sshd?)",
        ),
        "timeout": (TimeoutError("timed out"), "host hostA: timed out connecting to"),
        "unreachable": (
            OSError(errno.EHOSTUNREACH, "No route to host"),
            "host hostA: cannot connect to root@10.0.0.1:22: no route to host",
        ),
        "auth": (
            paramiko.AuthenticationException("Authentication failed."),
            "host hostA: root@10.0.0.1:22 refused authentication: Authentication failed. "
            "(hint: check the user and key",
        ),
        "passphrase": (
            paramiko.PasswordRequiredException("private key file is encrypted"),
            "host hostA: the key for root@10.0.0.1:22 is protected by a passphrase",
        ),
        "jump": (
            paramiko.ChannelException(2, "Connect failed"),
            "host hostA: the jump host could not open a connection to root@10.0.0.1:22: "
            "Connect failed",
        ),
        "protocol": (
            paramiko.SSHException("Error reading SSH protocol banner"),
            "host hostA: SSH to root@10.0.0.1:22 failed: Error reading SSH protocol banner",
        ),
    }


@pytest.mark.parametrize(
    "case",
    ["unknown key", "changed key", "refused", "timeout", "unreachable", "auth", "passphrase",
     "jump", "protocol"],
)  # fmt: skip
def test_connect_errors_are_one_line_naming_the_host(
    case: str, key: paramiko.PKey, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    error, expected = errors(key, known)[case]
    lines = connect_error("hostA", "root@10.0.0.1:22", known, error).lines()
    assert len(lines) == 1
    assert lines[0].startswith(expected), lines[0]
    assert "\n" not in lines[0]
