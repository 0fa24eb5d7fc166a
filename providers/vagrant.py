"""The `vagrant` provider: the VMs of a Vagrantfile, reached as `vagrant ssh-config` reports.

Vagrant forwards each VM's SSH to a port on 127.0.0.1 and logs in as `vagrant` (sudo
for root) with a key per machine. It asks for no host-key checking
(`StrictHostKeyChecking no`, `UserKnownHostsFile /dev/null`), which paramiko's SSHConfig
reads but does not apply, so the policy is applied here. The underlay is eth1, the
private network: eth0 is Vagrant's NAT, 10.0.2.15 on every VM.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import paramiko

from netplan.errors import NetplanError
from providers.base import HostConnection
from providers.hostkeys import HostKeyPolicy
from providers.ssh import DEFAULT_KNOWN_HOSTS, SSHTarget, connect
from providers.ssh_errors import SSHError

UNDERLAY = "eth1"
TIMEOUT = 120.0
"""`vagrant ssh-config` starts Ruby and asks the hypervisor: seconds, not milliseconds."""
POLICIES: dict[str, HostKeyPolicy] = {"no": "accept", "accept-new": "trust-on-first-use"}
"""StrictHostKeyChecking → host-key policy; anything else (yes, ask) verifies."""


def vagrant_provider(
    hosts: Sequence[str], inventory: Path | None
) -> dict[str, Callable[[], HostConnection]]:
    """The topology's hosts as the VMs of the Vagrantfile in `inventory` (a file or its
    directory; default: the current directory) of the same names."""
    directory = vagrant_dir(inventory)
    text, complaint = ssh_config(directory)
    targets = parse_ssh_config(text, hosts)
    return {
        host: (
            partial(connect, targets[host])
            if host in targets
            else partial(_not_up, host, complaint, directory)
        )
        for host in hosts
    }


def vagrant_dir(inventory: Path | None) -> Path:
    path = inventory or Path.cwd()
    directory = path.parent if path.is_file() else path
    if not (directory / "Vagrantfile").is_file():
        raise NetplanError(
            f"no Vagrantfile in {directory} "
            f"(hint: run in the Vagrantfile's directory, or pass --inventory path/to/Vagrantfile)"
        )
    return directory


def ssh_config(directory: Path) -> tuple[str, str]:
    """What `vagrant ssh-config` prints for the machines that are up, and its complaint.

    Machines that are not up are missing from the output; Vagrant then exits non-zero."""
    try:
        result = subprocess.run(
            ["vagrant", "ssh-config"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except FileNotFoundError:
        raise NetplanError(
            "vagrant is not installed (hint: apt-get install vagrant, or use --provider lab)"
        ) from None
    except subprocess.TimeoutExpired:
        raise NetplanError(f"vagrant ssh-config did not answer in {TIMEOUT:.0f} s") from None
    return result.stdout, first_paragraph(result.stderr)


def first_paragraph(text: str) -> str:
    """Vagrant's complaint as one line: its first paragraph, whose lines Vagrant wraps at
    ~70 columns (the first says what is wrong; its last line is a sentence's end)."""
    paragraph = text.strip().split("\n\n")[0]
    return " ".join(line.strip() for line in paragraph.splitlines() if line.strip())


def parse_ssh_config(text: str, hosts: Sequence[str]) -> dict[str, SSHTarget]:
    """SSH targets for the hosts that have a `Host` entry; the others are left out."""
    config = paramiko.SSHConfig.from_text(text)
    named = config.get_hostnames() - {"*"}
    return {host: target(host, config.lookup(host)) for host in hosts if host in named}


def target(host: str, options: paramiko.SSHConfigDict) -> SSHTarget:
    """One entry: the port comes as text and IdentityFile as a list; host-key options are
    applied explicitly (paramiko ignores them)."""
    known_hosts = Path(options.get("userknownhostsfile", str(DEFAULT_KNOWN_HOSTS)).split()[0])
    policy = POLICIES.get(options.get("stricthostkeychecking", "yes").lower(), "verify")
    if known_hosts == Path("/dev/null") and policy == "trust-on-first-use":
        policy = "accept"
    return SSHTarget(
        host,
        options.get("hostname", host),
        port=int(options.get("port", 22)),
        user=options.get("user", "vagrant"),
        keys=tuple(Path(key) for key in options.get("identityfile", [])),
        known_hosts=known_hosts,
        host_keys=policy,
        underlay=UNDERLAY,
    )


def _not_up(host: str, complaint: str, directory: Path) -> HostConnection:
    said = f": vagrant says: {complaint}" if complaint else ""
    raise SSHError(
        host, f"vagrant ssh-config in {directory} has no entry for it{said}", f"vagrant up {host}"
    )
