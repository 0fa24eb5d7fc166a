"""The lab's SSH material: a client key, one host key per host, the known_hosts file, sshd_config.

Keys are generated in-process (Ed25519, through `cryptography`, which paramiko needs anyway);
known_hosts is written by the lab so that connecting to a lab host verifies its key like
any other host's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

IN_HOST = Path("/run/lab")
"""Where a host sees its own directory of the lab (bind-mounted read-only)."""
HOST_KEY = "ssh_host_ed25519_key"


def ensure_key(path: Path) -> str:
    """The public key (OpenSSH format) of the private key at `path`, made if missing."""
    public = path.with_name(path.name + ".pub")
    if not (path.is_file() and public.is_file()):
        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        write(path, private, 0o600)
        openssh = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        write(public, openssh + b"\n", 0o644)
    return public.read_text().strip()


def write(path: Path, data: bytes, mode: int) -> None:
    """Replace the file atomically, created with `mode` (private keys are never world-readable)."""
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    partial.replace(path)


def known_hosts(host_keys: Mapping[str, str]) -> bytes:
    """`address key` lines, by address."""
    return "".join(f"{address} {key}\n" for address, key in sorted(host_keys.items())).encode()


def sshd_config(address: str) -> bytes:
    """A host's sshd: its own address, key and authorized keys; root by key only."""
    lines = [
        f"ListenAddress {address}",
        f"HostKey {IN_HOST / HOST_KEY}",
        f"AuthorizedKeysFile {IN_HOST / 'authorized_keys'}",
        "PidFile none",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "UseDNS no",
        "StrictModes no",
        "MaxStartups 100:30:200",
        "MaxSessions 100",
        "Subsystem sftp internal-sftp",
    ]
    return "\n".join(lines).encode() + b"\n"
