"""Host keys: verified against a known_hosts file unless the inventory says otherwise.

paramiko reads no ssh_config policy (StrictHostKeyChecking, UserKnownHostsFile), so the
policy is always set here, explicitly:
- `verify` (the default): an unknown key is refused; a changed key is always refused.
- `trust-on-first-use`: an unknown key is accepted and appended to the known_hosts file.
- `accept`: any key, remembered nowhere: what `vagrant ssh-config` asks for
  (`StrictHostKeyChecking no`, `UserKnownHostsFile /dev/null`) for its forwarded ports.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Literal

import paramiko

from providers.ssh_errors import UnknownHostKey

HostKeyPolicy = Literal["verify", "trust-on-first-use", "accept"]
_WRITING = threading.Lock()
"""Hosts connect in parallel; appends to a known_hosts file happen one at a time."""


class KeyCheck(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]
    """What to do with a key the known_hosts file does not have (paramiko's policy hook)."""

    def __init__(self, known_hosts: Path, policy: HostKeyPolicy) -> None:
        self.known_hosts, self.policy = known_hosts, policy

    def install(self, client: paramiko.SSHClient) -> None:
        if self.policy != "accept" and self.known_hosts.is_file():
            client.load_host_keys(str(self.known_hosts))
        client.set_missing_host_key_policy(self)

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        if self.policy == "accept":
            return
        if self.policy == "trust-on-first-use":
            remember(self.known_hosts, hostname, key)
            return
        raise UnknownHostKey(hostname, key, self.known_hosts)


def remember(known_hosts: Path, hostname: str, key: paramiko.PKey) -> None:
    """Append `hostname key` to the file, creating it (0600, in a 0700 directory) if needed."""
    line = paramiko.hostkeys.HostKeyEntry([hostname], key).to_line()
    with _WRITING:
        known_hosts.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(known_hosts, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a") as handle:
            handle.write(line)
