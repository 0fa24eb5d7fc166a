"""The `ssh` provider's inventory: how to reach each logical host of a topology.

```yaml
defaults:                      # optional; any field of a host but address, jump, underlay
  user: root
  key: ~/.ssh/id_ed25519       # relative paths are relative to this file
hosts:
  hostA: {address: 192.168.56.11, underlay: eth1}
  hostB: {address: 192.168.56.12, underlay: eth1, jump: bastion}
  bastion: {address: 203.0.113.7, user: admin, port: 2222}
```

Every problem is collected with `file:line:col`, the field path and a hint before stopping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from netplan.errors import NetplanError, Problem, ProblemsError
from netplan.topology.document import parse_document
from netplan.topology.positions import Positions, dotted
from netplan.topology.source import read_source
from providers.base import HostConnection
from providers.ssh import SSHTarget, connect


class InventoryError(ProblemsError):
    """The inventory file is wrong; the user fixes the file."""


class Reach(BaseModel):
    """How to log in; a host's own value wins over `defaults`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user: str | None = Field(default=None, min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    key: str | None = Field(default=None, min_length=1)
    known_hosts: str | None = Field(default=None, min_length=1)
    trust_on_first_use: bool | None = None
    python: str | None = Field(default=None, min_length=1)
    timeout: float | None = Field(default=None, gt=0)


class InventoryHost(Reach):
    address: str = Field(min_length=1)
    jump: str | None = None
    """Another host of this inventory to connect through (like ssh's ProxyJump)."""
    underlay: str | None = None
    """The underlay interface (`eth1`) or address overlay networks use on this host."""


class Inventory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    defaults: Reach = Reach()
    hosts: dict[str, InventoryHost]


def load_inventory(path: Path) -> dict[str, SSHTarget]:
    """Every host of the inventory file as an SSH target. Raises InventoryError."""
    document = parse_document(read_source(path), str(path))
    try:
        inventory = Inventory.model_validate(document.data)
    except ValidationError as exc:
        raise InventoryError(
            document.problems
            + [
                _problem(e["loc"], e["type"], e["msg"], document.positions)
                for e in exc.errors(include_url=False)
            ]
        ) from None
    problems = document.problems + [
        document.positions.locate(problem) for problem in _check(inventory, path.parent)
    ]
    if problems:
        raise InventoryError(problems)
    targets: dict[str, SSHTarget] = {}
    for name in inventory.hosts:
        _resolve(name, inventory, path.parent, targets)
    return targets


def ssh_provider(
    hosts: Sequence[str], inventory: Path | None
) -> dict[str, Callable[[], HostConnection]]:
    """The topology's hosts, reached as the inventory file says."""
    if inventory is None:
        raise NetplanError(
            "the ssh provider needs an inventory file "
            "(hint: netplan apply FILE --provider ssh --inventory inventory.yaml)"
        )
    targets = load_inventory(inventory)
    missing = [host for host in hosts if host not in targets]
    if missing:
        raise InventoryError(
            [
                Problem(
                    f"host {host!r} of the topology is not in the inventory",
                    path="hosts",
                    hint=f"add `{host}: {{address: ...}}` under hosts",
                    file=str(inventory),
                )
                for host in missing
            ]
        )
    return {host: partial(connect, targets[host]) for host in hosts}


def _problem(loc: Sequence[str | int], kind: str, message: str, positions: Positions) -> Problem:
    path = dotted(loc)
    if kind == "missing":
        return positions.locate(Problem(f"missing required field '{loc[-1]}'", path))
    if kind == "extra_forbidden":
        known = ", ".join(InventoryHost.model_fields)
        hint = f"a host takes {known}" if loc[0] == "hosts" else ""
        return positions.locate(Problem(f"unknown field '{loc[-1]}'", path, hint), at_key=True)
    return positions.locate(Problem(message, path))


def _check(inventory: Inventory, base: Path) -> Iterator[Problem]:
    for source, reach in [("defaults", inventory.defaults)] + [
        (f"hosts.{name}", host) for name, host in inventory.hosts.items()
    ]:
        if reach.key is not None and not _path(reach.key, base).is_file():
            yield Problem(f"no such key file: {_path(reach.key, base)}", f"{source}.key")
    for name, host in inventory.hosts.items():
        if host.jump is not None and host.jump not in inventory.hosts:
            yield Problem(
                f"jump host {host.jump!r} is not in the inventory",
                f"hosts.{name}.jump",
                f"one of: {', '.join(sorted(inventory.hosts))}",
            )
        elif _jump_loop(name, inventory.hosts):
            yield Problem("the jump hosts go round in a circle", f"hosts.{name}.jump")


def _jump_loop(name: str, hosts: Mapping[str, InventoryHost]) -> bool:
    seen = {name}
    jump = hosts[name].jump
    while jump is not None and jump in hosts:
        if jump in seen:
            return True
        seen.add(jump)
        jump = hosts[jump].jump
    return False


def _path(text: str, base: Path) -> Path:
    return base / Path(text).expanduser()


def _resolve(name: str, inventory: Inventory, base: Path, done: dict[str, SSHTarget]) -> SSHTarget:
    """The host's target, its own settings over `defaults` over ssh's usual defaults."""
    if name in done:
        return done[name]
    host = inventory.hosts[name]
    reach = inventory.defaults.model_copy(
        update=host.model_dump(include=set(Reach.model_fields), exclude_none=True)
    )
    settings: dict[str, Any] = {
        field: value
        for field, value in (
            ("port", reach.port),
            ("user", reach.user),
            ("python", reach.python),
            ("timeout", reach.timeout),
        )
        if value is not None
    }
    if reach.key is not None:
        settings["keys"] = (_path(reach.key, base),)
    if reach.known_hosts is not None:
        settings["known_hosts"] = _path(reach.known_hosts, base)
    if reach.trust_on_first_use:
        settings["host_keys"] = "trust-on-first-use"
    jump = None if host.jump is None else _resolve(host.jump, inventory, base, done)
    done[name] = SSHTarget(name, host.address, jump=jump, underlay=host.underlay, **settings)
    return done[name]
