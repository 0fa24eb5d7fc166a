"""The lab: simulated hosts on this machine, reached over SSH like any other host.

`up` makes them, `down` removes them, `lab_provider` reaches them by the topology's host
names. Everything the lab knows lives in one directory (default /run/netplan/lab, or
$NETPLAN_LAB_DIR, or `--inventory DIR` for the provider):

    lab.json              each host's underlay address, and the PID and start time of its sshd
    id_ed25519[.pub]      the key netplan logs in with (root on every lab host)
    known_hosts           every host's key, by address: lab hosts are verified like others
    hosts/<host>/         its sshd_config, host key, authorized_keys, sshd.log, and root/
                          (where the host mounts its private root layer)
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from providers.base import HostConnection
from providers.lab_host import SSHD, Process, Starting, release, spawn, wait_ready
from providers.lab_keys import HOST_KEY, ensure_key, known_hosts, sshd_config, write
from providers.lab_lock import lab_locked
from providers.lab_net import (
    UNDERLAY,
    LabError,
    ensure_bridge,
    host_address,
    remove_bridge,
    wait_detached,
)
from providers.ssh import SSHTarget, connect
from providers.ssh_errors import SSHError

DEFAULT_DIR = Path("/run/netplan/lab")
HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,10}")
"""A topology host name short enough for the veth `lab-<host>` (15 bytes at most)."""
MAX_HOSTS = 244
"""192.168.56.11 to .254."""


@dataclass(frozen=True)
class LabHost:
    name: str
    address: str
    process: Process

    @property
    def running(self) -> bool:
        return self.process.alive()


@dataclass
class Lab:
    directory: Path
    hosts: dict[str, LabHost] = field(default_factory=dict)

    @property
    def state(self) -> Path:
        return self.directory / "lab.json"

    @property
    def key(self) -> Path:
        return self.directory / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.directory / "known_hosts"

    def host_dir(self, name: str) -> Path:
        return self.directory / "hosts" / name

    @classmethod
    def load(cls, directory: Path) -> Lab:
        """The lab in `directory`; without one, a lab with no hosts."""
        lab = cls(directory)
        if lab.state.is_file():
            data = json.loads(lab.state.read_text())
            for name, host in data["hosts"].items():
                process = Process(host["pid"], host["started"])
                lab.hosts[name] = LabHost(name, host["address"], process)
        return lab

    def save(self) -> None:
        hosts = {
            name: {"address": h.address, "pid": h.process.pid, "started": h.process.started}
            for name, h in sorted(self.hosts.items())
        }
        data = {"format_version": 1, "hosts": hosts}
        write(self.state, json.dumps(data, indent=2).encode() + b"\n", 0o644)

    def ssh_command(self, host: LabHost) -> str:
        return f"ssh -i {self.key} -o UserKnownHostsFile={self.known_hosts} root@{host.address}"


def lab_dir(given: Path | None = None) -> Path:
    """The lab's directory: given, else $NETPLAN_LAB_DIR, else the default; absolute."""
    return (given or Path(os.environ.get("NETPLAN_LAB_DIR") or DEFAULT_DIR)).absolute()


def default_names(count: int) -> list[str]:
    """hostA, hostB, …, hostZ, hostAA, … as the Vagrantfile names its VMs."""
    names = []
    for index in range(count):
        letters = ""
        index += 1
        while index:
            index, rest = divmod(index - 1, 26)
            letters = chr(65 + rest) + letters
        names.append(f"host{letters}")
    return names


def check_names(names: Sequence[str]) -> None:
    bad = [name for name in names if not HOST_NAME.fullmatch(name)]
    if bad:
        raise LabError(
            f"lab host names must be 1 to 11 letters, digits, '_', '.' or '-': "
            f"{', '.join(map(repr, bad))} (hint: shorten the topology's host names)"
        )
    if len(set(names)) != len(names):
        raise LabError(f"a lab host is named twice in {', '.join(names)}")


def up(names: Sequence[str], directory: Path, lock_timeout: float | None = None) -> Lab:
    """Start the named hosts that are not running (the others are kept); the lab after.
    Once another lab command is done, if one is running: up to `lock_timeout` seconds,
    by default lab_lock.WAIT (providers/lab_lock.py)."""
    check_names(names)
    if os.geteuid() != 0:
        raise LabError("the lab needs root: it makes namespaces and links (hint: sudo)")
    if not Path(SSHD).is_file():
        raise LabError(
            f"{SSHD} is missing (hint: apt-get install -y openssh-server; only the binary is used)"
        )
    with lab_locked("lab up", lock_timeout):
        return _up(names, directory)


def _up(names: Sequence[str], directory: Path) -> Lab:
    lab = Lab.load(directory)
    if len(set(lab.hosts) | set(names)) > MAX_HOSTS:
        raise LabError(f"the lab has room for {MAX_HOSTS} hosts")
    made = _make_directory(directory)
    try:
        ensure_bridge(directory)
    except LabError:
        if made:
            directory.rmdir()
        raise
    client_key = ensure_key(lab.key)
    stopped = [name for name in names if name not in lab.hosts or not lab.hosts[name].running]
    failures = _finish(lab, [_spawn(lab, name, client_key) for name in stopped])
    _write_known_hosts(lab)
    lab.save()
    if failures:
        raise LabError("; ".join(failures))
    return lab


def _make_directory(directory: Path) -> bool:
    """Make the lab's directory before anything else, so that one that cannot be made
    stops `lab up` with nothing changed; whether it was made now."""
    if directory.is_dir():
        return False
    try:
        directory.mkdir(mode=0o700, parents=True)
    except OSError as error:
        raise LabError(
            f"cannot make the lab's directory {directory}: {error.strerror} "
            f"(hint: choose a writable directory with --dir or NETPLAN_LAB_DIR)"
        ) from error
    return True


def _spawn(lab: Lab, name: str, client_key: str) -> Starting:
    """Write the host's sshd files and start it; a host keeps its address and host key
    (and, restarted, waits until its previous underlay link is gone)."""
    known = lab.hosts.get(name)
    if known is not None:
        wait_detached(name)
    address = known.address if known else _free_address(lab)
    folder = lab.host_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    ensure_key(folder / HOST_KEY)
    write(folder / "sshd_config", sshd_config(address), 0o644)
    write(folder / "authorized_keys", client_key.encode() + b"\n", 0o644)
    lab.hosts[name] = LabHost(name, address, Process(0, 0))
    return spawn(name, address, folder)


def _finish(lab: Lab, starting: list[Starting]) -> list[str]:
    """Every host gets its underlay link, then all are waited for: they start side by side.
    The errors of those that did not start."""
    failures = []
    released = []
    for host in starting:
        try:
            lab.hosts[host.name] = LabHost(host.name, host.address, release(host))
            released.append(host)
        except LabError as error:
            failures.append(str(error))
    for host in released:
        try:
            wait_ready(host)
        except LabError as error:
            failures.append(str(error))
    return failures


def _free_address(lab: Lab) -> str:
    used = {host.address for host in lab.hosts.values()}
    for index in range(MAX_HOSTS):
        address = str(host_address(index))
        if address not in used:
            return address
    raise LabError(f"the lab has room for {MAX_HOSTS} hosts")


def _write_known_hosts(lab: Lab) -> None:
    keys = {
        host.address: (lab.host_dir(name) / f"{HOST_KEY}.pub").read_text().strip()
        for name, host in lab.hosts.items()
    }
    write(lab.known_hosts, known_hosts(keys), 0o644)


def down(directory: Path, lock_timeout: float | None = None) -> list[str]:
    """Stop every host, remove the underlay and the lab's directory; the hosts stopped.
    Once another lab command is done, if one is running: up to `lock_timeout` seconds,
    by default lab_lock.WAIT (providers/lab_lock.py)."""
    with lab_locked("lab down", lock_timeout):
        return _down(directory)


def _down(directory: Path) -> list[str]:
    lab = Lab.load(directory)
    if not lab.state.is_file():
        return []
    stopped = [name for name, host in lab.hosts.items() if host.running]
    for host in lab.hosts.values():
        host.process.stop()
    for name in lab.hosts:
        wait_detached(name)
    remove_bridge(lab.directory)
    shutil.rmtree(directory)
    return stopped


def lab_provider(
    hosts: Sequence[str], inventory: Path | None
) -> dict[str, Callable[[], HostConnection]]:
    """The topology's hosts on the lab in `inventory` (a lab directory) or the default one."""
    lab = Lab.load(lab_dir(inventory))
    wanted = ",".join(sorted(set(hosts) | set(lab.hosts)))
    if not lab.hosts:
        raise LabError(f"no lab is up in {lab.directory} (hint: netplan lab up --hosts {wanted})")
    missing = [host for host in hosts if host not in lab.hosts]
    if missing:
        raise LabError(
            f"the lab has no host {', '.join(missing)} (lab hosts: {', '.join(lab.hosts)}) "
            f"(hint: netplan lab up --hosts {wanted})"
        )
    connectors: dict[str, Callable[[], HostConnection]] = {}
    for name in hosts:
        host = lab.hosts[name]
        if not host.running:
            connectors[name] = partial(_not_running, name)
            continue
        target = SSHTarget(
            name,
            host.address,
            keys=(lab.key,),
            known_hosts=lab.known_hosts,
            underlay=UNDERLAY,
            timeout=5.0,
        )
        connectors[name] = partial(connect, target)
    return connectors


def _not_running(name: str) -> HostConnection:
    raise SSHError(name, "the lab host is not running", "netplan lab up")
