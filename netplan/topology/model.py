"""The topology file, schema version 1, as pydantic models.

Types and per-field rules live here; rules that look across the whole file (references,
address clashes, cycles) live in `checks.py`.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
IFNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
MAC_PATTERN = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
IFNAMSIZ = 15
"""Longest interface name the kernel takes, in bytes."""


def _name(value: str) -> str:
    if len(value.encode()) > 63:
        raise ValueError(f"name {value!r} is longer than 63 bytes")
    if not NAME_PATTERN.fullmatch(value) or value in (".", ".."):
        raise ValueError(
            f"name {value!r} may only contain letters, digits, '_', '.' and '-' "
            "and must start with a letter or digit (it becomes a namespace or interface name)"
        )
    return value


def _ifname(value: str) -> str:
    if len(value.encode()) > IFNAMSIZ:
        raise ValueError(f"interface name {value!r} is longer than {IFNAMSIZ} bytes")
    if not IFNAME_PATTERN.fullmatch(value):
        raise ValueError(
            f"interface name {value!r} may only contain letters, digits, '_', '.' and '-' "
            "and must start with a letter or digit"
        )
    return value


def _mac(value: str) -> str:
    lowered = value.lower()
    if not MAC_PATTERN.fullmatch(lowered):
        raise ValueError(f"{value!r} is not a MAC address like 02:42:ac:11:00:02")
    if int(lowered[:2], 16) & 1:
        raise ValueError(f"{value!r} is a multicast MAC address")
    return lowered


Name = Annotated[str, AfterValidator(_name)]
IfName = Annotated[str, AfterValidator(_ifname)]
Mac = Annotated[str, AfterValidator(_mac)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Host(Strict):
    """A logical host. How it is reached comes from a provider, never from this file."""


class BridgeNetwork(Strict):
    """Docker's bridge driver: a Linux bridge on one host, containers attached by veth."""

    driver: Literal["bridge"] = "bridge"
    subnet: IPv4Network
    ip_range: IPv4Network | None = None
    """Dynamic addresses (and, without `gateway`, the gateway) come from this range."""
    gateway: IPv4Address | None = None
    bridge: IfName | None = None
    """Name of the Linux bridge; default `br-<network>`, or `br-<hash>` if that is too long."""
    mtu: int | None = Field(default=None, ge=68, le=65535)
    host: Name | None = None
    """The host the bridge lives on; default: the topology's only host."""


class Attachment(Strict):
    """A container's place on one network (the mapping form of `networks:`)."""

    ipv4: IPv4Address | None = None
    mac: Mac | None = None
    aliases: list[Name] = Field(default_factory=list)


class Container(Strict):
    """A Linux network namespace named after the container."""

    host: Name | None = None
    networks: dict[Name, Attachment] = Field(default_factory=dict)
    network_mode: str | None = None
    """`none`, `host` or `container:<name>`; without it and without networks: `none`."""

    @field_validator("networks", mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        """`networks: [a, b]` is short for `networks: {a: {}, b: {}}`; `a:` alone means `a: {}`."""
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            if len(set(value)) != len(value):
                raise ValueError("a network is listed twice")
            return dict.fromkeys(value, {})
        if isinstance(value, dict):
            return {name: ({} if spec is None else spec) for name, spec in value.items()}
        return value

    @field_validator("network_mode")
    @classmethod
    def _mode(cls, value: str | None) -> str | None:
        if value is None or value in ("none", "host"):
            return value
        if value.startswith("container:") and value != "container:":
            _name(value.removeprefix("container:"))
            return value
        raise ValueError(f"network_mode {value!r} must be 'none', 'host' or 'container:<name>'")

    @property
    def shares_with(self) -> str | None:
        """The container whose namespace this one joins (`container:<name>` mode)."""
        if self.network_mode and self.network_mode.startswith("container:"):
            return self.network_mode.removeprefix("container:")
        return None


class Topology(Strict):
    version: Literal[1] = 1
    name: Name
    hosts: dict[Name, Host] = Field(default_factory=lambda: {"local": Host()})
    networks: dict[Name, BridgeNetwork] = Field(default_factory=dict)
    containers: dict[Name, Container] = Field(default_factory=dict)

    def host_of_container(self, name: str) -> str:
        return self.containers[name].host or self.default_host

    def host_of_network(self, name: str) -> str:
        return self.networks[name].host or self.default_host

    @property
    def default_host(self) -> str:
        return next(iter(self.hosts))
