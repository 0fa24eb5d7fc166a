"""The ssh provider's inventory: hosts to SSH targets, and every mistake with file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from netplan.errors import NetplanError
from providers.inventory import InventoryError, load_inventory, ssh_provider
from providers.ssh import DEFAULT_KNOWN_HOSTS

INVENTORY = """\
defaults:
  user: admin
  key: keys/id_ed25519
hosts:
  hostA: {address: 192.168.56.11, underlay: eth1, user: root}
  hostB:
    address: 192.168.56.12
    port: 2222
    jump: bastion
    known_hosts: ~/lab_known_hosts
    trust_on_first_use: true
    python: /usr/bin/python3
  bastion: {address: 203.0.113.7, timeout: 3}
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "keys").mkdir(exist_ok=True)
    (tmp_path / "keys" / "id_ed25519").write_text("")
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    return path


def test_hosts_become_targets_with_defaults_and_paths_resolved(tmp_path: Path) -> None:
    targets = load_inventory(write(tmp_path, INVENTORY))
    a, b, bastion = targets["hostA"], targets["hostB"], targets["bastion"]
    key = (tmp_path / "keys" / "id_ed25519",)
    assert (a.address, a.port, a.user, a.keys) == ("192.168.56.11", 22, "root", key)
    assert a.underlay == "eth1"
    assert (a.host_keys, a.known_hosts, a.sudo) == ("verify", DEFAULT_KNOWN_HOSTS, False)
    assert (b.port, b.user, b.sudo, b.python) == (2222, "admin", True, "/usr/bin/python3")
    assert b.known_hosts == Path("~/lab_known_hosts").expanduser()
    assert b.host_keys == "trust-on-first-use"
    assert b.jump == bastion and bastion.timeout == 3.0 and bastion.jump is None


def test_the_provider_reaches_only_the_topologys_hosts(tmp_path: Path) -> None:
    assert set(ssh_provider(["hostB", "hostA"], write(tmp_path, INVENTORY))) == {"hostA", "hostB"}


def test_a_topology_host_missing_from_the_inventory(tmp_path: Path) -> None:
    path = write(tmp_path, INVENTORY)
    with pytest.raises(InventoryError) as caught:
        ssh_provider(["hostA", "hostC", "hostD"], path)
    assert caught.value.lines() == [
        f"{path}: hosts: host '{name}' of the topology is not in the inventory "
        f"(hint: add `{name}: {{address: ...}}` under hosts)"
        for name in ("hostC", "hostD")
    ]


def test_the_ssh_provider_needs_an_inventory() -> None:
    with pytest.raises(NetplanError, match=r"needs an inventory file .*--inventory"):
        ssh_provider(["hostA"], None)


BAD = {
    "no address": (
        "hosts:\n  hostA: {port: 22}\n",
        ["2:3: hosts.hostA.address: missing required field 'address'"],
    ),
    "misspelled field": (
        "hosts:\n  hostA:\n    address: 10.0.0.1\n    adress: 10.0.0.2\n",
        ["4:5: hosts.hostA.adress: unknown field 'adress' (hint: a host takes "],
    ),
    "port out of range": (
        "hosts:\n  hostA: {address: 10.0.0.1, port: 70000}\n",
        ["2:36: hosts.hostA.port: Input should be less than or equal to 65535"],
    ),
    "port not a number": (
        "hosts:\n  hostA: {address: 10.0.0.1, port: ssh}\n",
        ["2:36: hosts.hostA.port: Input should be a valid integer"],
    ),
    "unknown jump host": (
        "hosts:\n  hostA: {address: 10.0.0.1, jump: bastoin}\n",
        ["2:36: hosts.hostA.jump: jump host 'bastoin' is not in the inventory (hint: one of"],
    ),
    "jump loop": (
        "hosts:\n  a: {address: 10.0.0.1, jump: b}\n  b: {address: 10.0.0.2, jump: a}\n",
        [
            "2:32: hosts.a.jump: the jump hosts go round in a circle",
            "3:32: hosts.b.jump: the jump hosts go round in a circle",
        ],
    ),
    "missing key file": (
        "defaults: {key: nope}\nhosts:\n  hostA: {address: 10.0.0.1}\n",
        ["1:17: defaults.key: no such key file: "],
    ),
    "no hosts": ("defaults: {user: root}\n", ["1:1: hosts: missing required field 'hosts'"]),
    "duplicate host": (
        "hosts:\n  hostA: {address: 10.0.0.1}\n  hostA: {address: 10.0.0.2}\n",
        ["3:3: hosts.hostA: "],
    ),
}


@pytest.mark.parametrize("text, expected", BAD.values(), ids=BAD.keys())
def test_every_mistake_is_reported_where_it_was_written(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(NetplanError) as caught:
        load_inventory(path)
    lines = caught.value.lines()
    assert len(lines) == len(expected), lines
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(f"{path}:{start}"), line
