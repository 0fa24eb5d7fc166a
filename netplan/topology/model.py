"""The topology file, schema version 1, as pydantic models.

Types and per-field rules live here; rules that look across the whole file (references,
address clashes, cycles) live in `checks.py`.
"""

from __future__ import annotations

import re
import unicodedata
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from netplan.errors import FieldError
from netplan.firewall.ports import PATTERN as PUBLISH_PATTERN
from netplan.firewall.ports import PortMapping
from netplan.topology.list_forms import HOSTS, NETWORKS, once_each
from netplan.topology.process_fields import (
    Command,
    Env,
    Hostname,
    Restart,
    VolumeText,
    Workdir,
)
from netplan.topology.reach import parse_source, parse_target
from netplan.topology.wording import tidied

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
IFNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
MAC_PATTERN = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
IFNAMSIZ = 15
"""Longest interface name the kernel takes, in bytes."""
NAME_MAX = 63
"""Longest name, in bytes: a host name label."""


def _name(value: str) -> str:
    if len(value) <= NAME_MAX and NAME_PATTERN.fullmatch(value):
        return value  # the pattern is ASCII: characters are bytes; the rules below word why not
    if not value:
        raise FieldError("a name must not be empty", _rename_hint(value, NAME_MAX))
    if len(value.encode()) > NAME_MAX:
        raise FieldError(
            f"name {value!r} is longer than {NAME_MAX} bytes",
            f"shorten it to {NAME_MAX} bytes or fewer",
        )
    if not NAME_PATTERN.fullmatch(value) or value in (".", ".."):
        raise FieldError(
            f"name {value!r} may only contain letters, digits, '_', '.' and '-' "
            "and must start with a letter or digit (it becomes a namespace or interface name)"
            + _lookalike(value),
            _rename_hint(value, NAME_MAX),
        )
    return value


def _ifname(value: str) -> str:
    if len(value.encode()) > IFNAMSIZ:
        raise FieldError(
            f"interface name {value!r} is longer than {IFNAMSIZ} bytes",
            f"shorten it to {IFNAMSIZ} bytes or fewer",
        )
    if not IFNAME_PATTERN.fullmatch(value):
        raise FieldError(
            f"interface name {value!r} may only contain letters, digits, '_', '.' and '-' "
            "and must start with a letter or digit" + _lookalike(value),
            _rename_hint(value, IFNAMSIZ),
        )
    return value


def _rename_hint(value: str, longest: int) -> str:
    """A name like the one written that the rules allow, or how to make one."""
    candidate = tidied(value, longest)
    if candidate and candidate not in (".", ".."):
        return f"rename it, e.g. '{candidate}'"
    return "choose a name that starts with a letter or digit, e.g. 'web-1'"


def _lookalike(value: str) -> str:
    """Names the first character outside ASCII, which may look like an allowed one
    (Cyrillic U+0430, fullwidth U+FF57) or not show at all (U+202E, U+200B)."""
    char = next((c for c in value if not c.isascii()), None)
    if char is None:
        return ""
    return f": {char!r} is U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}, not ASCII"


_MAC_HINT = (
    "write a unicast MAC such as 02:42:ac:11:00:02, or leave `mac:` out to have one assigned"
)


def _mac(value: str) -> str:
    lowered = value.lower()
    if not MAC_PATTERN.fullmatch(lowered):
        raise FieldError(f"{value!r} is not a MAC address (six hex bytes joined by ':')", _MAC_HINT)
    if int(lowered[:2], 16) & 1:
        raise FieldError(f"{value!r} is a multicast MAC address (its first byte is odd)", _MAC_HINT)
    if not int(lowered.replace(":", ""), 16):
        raise FieldError(
            f"{value!r} is the all-zero MAC address, which no interface may have", _MAC_HINT
        )
    return lowered


def _schema(pattern: str, longest: int | None = None) -> WithJsonSchema:
    """What editors check; the validators above stay the rule and word the messages."""
    schema: dict[str, Any] = {"type": "string", "pattern": f"^{pattern}$"}
    if longest is not None:
        schema["maxLength"] = longest
    return WithJsonSchema(schema)


def _written_as(kind: str) -> BeforeValidator:
    """Addresses and networks are written as text, which strict mode would refuse and
    lax mode takes with numbers too (`subnet: 167772160` is 10.0.0.0/32): text only."""

    def text_only(value: Any) -> Any:
        if isinstance(value, str | IPv4Address | IPv4Network):
            return value
        raise PydanticCustomError(kind, "not written as text")

    return BeforeValidator(text_only)


Subnet = Annotated[IPv4Network, _written_as("ip_v4_network"), Field(strict=False)]
Ip = Annotated[IPv4Address, _written_as("ip_v4_address"), Field(strict=False)]
Name = Annotated[str, AfterValidator(_name), _schema(NAME_PATTERN.pattern, 63)]
IfName = Annotated[str, AfterValidator(_ifname), _schema(IFNAME_PATTERN.pattern, IFNAMSIZ)]
Mac = Annotated[str, AfterValidator(_mac), _schema("[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}")]


def _publish(value: str) -> str:
    try:
        PortMapping.parse(value)
    except ValueError as error:
        raise FieldError(
            str(error),
            "write [host_ip:]host_port:container_port[/tcp|udp|sctp], one port each, "
            "e.g. 8080:80/tcp",
        ) from None
    return value


Publish = Annotated[str, AfterValidator(_publish), _schema(PUBLISH_PATTERN)]


def _not_boolean(value: Any) -> Any:
    """`version: true` is not version 1, though Python's True == 1."""
    if isinstance(value, bool):
        raise PydanticCustomError("literal_error", "not a version", {"expected": "1"})
    return value


def _mapping(value: Any) -> Any:
    """`key:` with nothing after it means an empty mapping, as in `hosts: {a: }`."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {name: ({} if spec is None else spec) for name, spec in value.items()}
    return value


class Strict(BaseModel):
    """Field docs are attribute docstrings; schema.py turns them into JSON Schema
    descriptions (not `use_attribute_docstrings`, which parses this file on every import).

    Values are taken as YAML typed them, never converted (pydantic's strict mode): `mtu:
    "1500"`, `nat: "yes"` or `vni: true` are errors, not a number or a boolean guessed."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _underlay(value: str) -> str:
    try:
        IPv4Address(value)
    except ValueError:
        try:
            _ifname(value)
        except ValueError:
            raise FieldError(
                f"underlay {value!r} is neither an interface name nor an IPv4 address",
                _underlay_hint(value),
            ) from None
    return value


def _underlay_hint(value: str) -> str:
    address, _, _ = value.partition("/")
    try:
        IPv4Address(address)
    except ValueError:
        return "write the interface's name, e.g. eth1, or its IPv4 address, e.g. 192.168.56.11"
    return f"write the address without its prefix length: {address}"


class Host(Strict):
    """A logical host. How it is reached comes from a provider, never from this file."""

    underlay: Annotated[str, AfterValidator(_underlay)] | None = Field(
        default=None, examples=["eth1", "192.168.56.11"]
    )
    """The interface (or its IPv4 address) overlay tunnels leave through; default: the
    provider's (lab hosts `ul0`, Vagrant VMs `eth1`)."""


class BridgeNetwork(Strict):
    """Docker's bridge driver: a Linux bridge on one host, containers attached by veth."""

    DEFAULT_GATEWAY: ClassVar[bool] = True
    """Without `gateway:` the pool's first address is the gateway (netplan.ipam)."""

    driver: Literal["bridge"] = "bridge"
    """Docker's default driver."""
    subnet: Subnet | None = Field(default=None, examples=["10.0.0.0/24"])
    """The network's IPv4 subnet in CIDR form; default: the first free one of Docker's
    local-scope pools (172.17.0.0/16 … 172.31.0.0/16, then 192.168.0.0/16 in /20s), kept
    for as long as the network exists."""
    ip_range: Subnet | None = Field(default=None, examples=["10.0.0.128/25"])
    """Dynamic addresses (and, without `gateway`, the gateway) come from this range."""
    gateway: Ip | None = Field(default=None, examples=["10.0.0.1"])
    """The bridge's address; default: the lowest usable address of `ip_range` or `subnet`."""
    bridge: IfName | None = Field(default=None, examples=["br-front"])
    """Name of the Linux bridge; default `br-<network>`, or `br-<hash>` if that is too long."""
    mtu: int | None = Field(default=None, ge=68, le=65535)
    """MTU of the bridge and its veths; default 1500."""
    host: Name | None = None
    """The host the bridge lives on; default: the topology's only host."""
    nat: bool = True
    """Masquerade traffic from the subnet leaving through another interface (and turn
    on net.ipv4.ip_forward), as Docker's enable_ip_masquerade."""
    internal: bool = False
    """No way in or out: nothing crosses the bridge's edge, containers get no default
    route through it, and their published ports are not published."""
    icc: bool = True
    """Containers on this bridge may talk to each other; false drops traffic between
    its ports (they still reach the gateway)."""


VNI_MAX = (1 << 24) - 1
VXLAN_PORT = 4789
"""IANA's VXLAN port, Docker's default."""


class OverlayNetwork(Strict):
    """Docker's overlay driver: one layer-2 network across hosts. On each of its hosts a
    bridge and a VXLAN device; netplan programs every peer (no multicast needed)."""

    DEFAULT_GATEWAY: ClassVar[bool] = False
    """An overlay has no gateway unless one is given (see `gateway`)."""

    driver: Literal["overlay"]
    """VXLAN across hosts."""
    subnet: Subnet | None = Field(default=None, examples=["10.88.0.0/24"])
    """The network's IPv4 subnet in CIDR form, one for all its hosts; default: the first
    one of Docker's global-scope pools (10.0.0.0/8 in /24s) free on all of them, kept for
    as long as the network exists."""
    ip_range: Subnet | None = Field(default=None, examples=["10.88.0.128/25"])
    """Dynamic addresses come from this range."""
    gateway: Ip | None = Field(default=None, examples=["10.88.0.254"])
    """An address kept out of the pool, as Docker reserves its overlay gateway. Nothing
    holds it on the hosts: containers get no default route through an overlay (Docker
    routes them through docker_gwbridge, which netplan does not make). Default: none, so
    containers get addresses from the lowest usable one (.1 first)."""
    vni: int | None = Field(default=None, ge=1, le=VNI_MAX, examples=[42])
    """VXLAN network identifier; default: the lowest free one from 4096 up, kept for
    as long as the network exists."""
    hosts: list[Name] | None = Field(default=None, examples=[["hostA", "hostB"]])
    """The hosts the overlay spans; default: every host with a container on it."""
    mtu: int | None = Field(default=None, ge=68, le=65535)
    """MTU of the VXLAN devices, bridges and veths; default: the smallest underlay MTU
    among its hosts, minus the 50 bytes of VXLAN encapsulation."""
    port: int = Field(default=VXLAN_PORT, ge=1, le=65535)
    """UDP port of the tunnels."""
    static_peers: bool = True
    """Program each remote container's MAC and address on every host (FDB and neighbour
    entries, answered by the VXLAN device's ARP proxy), so that no ARP crosses hosts;
    false floods ARP to every host and learns MACs from traffic."""
    bridge: IfName | None = Field(default=None, examples=["br-overlay"])
    """Name of the bridge on each host; default `br-<network>`, or `br-<hash>`."""

    @field_validator("hosts")
    @classmethod
    def _hosts_once(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            once_each(value, "host")
        return value


MacvlanMode = Literal["bridge", "vepa", "private", "passthru"]


class MacvlanNetwork(Strict):
    """Docker's macvlan driver: each container gets a macvlan interface of `parent`, a
    host interface, in its own namespace, with its own MAC on the parent's LAN. No NAT
    and no firewall rules; the host itself cannot reach its containers through `parent`
    (the kernel's macvlan does not loop traffic back to its parent)."""

    DEFAULT_GATEWAY: ClassVar[bool] = False
    """The gateway is a router on the LAN, used only when given."""

    driver: Literal["macvlan"]
    """Interfaces of a host interface, straight on its LAN."""
    parent: IfName = Field(examples=["eth1", "eth1.10"])
    """The host interface; one called `X.N` that does not exist is created as an 802.1Q
    VLAN link (id N) of `X`, and removed when the topology no longer uses it. An existing
    interface is used as it is and never changed."""
    mode: MacvlanMode = "bridge"
    """bridge: containers on the parent reach each other; vepa: through the switch only
    (it must hairpin); private: never; passthru: one container, which takes the parent's
    MAC address."""
    subnet: Subnet = Field(examples=["192.168.1.0/24"])
    """The LAN's IPv4 subnet in CIDR form."""
    ip_range: Subnet | None = Field(default=None, examples=["192.168.1.192/27"])
    """Dynamic addresses come from this range (keep it out of the LAN's DHCP pool)."""
    gateway: Ip | None = Field(default=None, examples=["192.168.1.1"])
    """The LAN's router: kept out of the pool, and containers whose first routed network
    this is get their default route through it. Nothing on the host holds it. Default:
    none (no default route; addresses from the lowest usable one)."""
    mtu: int | None = Field(default=None, ge=68, le=65535)
    """MTU of the containers' interfaces, at most the parent's; default: the parent's."""
    host: Name | None = None
    """The host whose interface `parent` is; default: the topology's only host."""


def _driver(value: Any) -> str:
    """The tag of a network: its `driver`, `bridge` when absent (or not text, so that
    the bridge model words the error)."""
    driver = value.get("driver", "bridge") if isinstance(value, dict) else getattr(
        value, "driver", "bridge")
    return driver if isinstance(driver, str) else "bridge"


Network = Annotated[
    Annotated[BridgeNetwork, Tag("bridge")]
    | Annotated[OverlayNetwork, Tag("overlay")]
    | Annotated[MacvlanNetwork, Tag("macvlan")],
    Discriminator(_driver),
]
"""A network of any driver, chosen by its `driver` field."""


class Attachment(Strict):
    """A container's place on one network (the mapping form of `networks:`)."""

    ipv4: Ip | None = Field(default=None, examples=["10.0.0.10"])
    """A static address in the network's subnet; default: the next free one."""
    mac: Mac | None = Field(default=None, examples=["02:42:0a:00:00:0a"])
    """Default: 02:42 followed by the four bytes of the IPv4 address, as Docker does."""
    aliases: list[Name] = Field(default_factory=list)
    """More names other containers on this network can resolve this container by."""


class Container(Strict):
    """A Linux network namespace named after the container."""

    host: Name | None = None
    """The host the namespace lives on; default: the topology's only host, or with
    `network_mode: container:<name>` the host of that container."""
    networks: dict[Name, Attachment] = Field(default_factory=dict)
    """The networks the container is attached to: a list of names, or a mapping."""
    network_mode: str | None = Field(default=None, examples=["none", "host", "container:web"])
    """`none`, `host` or `container:<name>`; without it and without networks: `none`."""
    publish: list[Publish] = Field(
        default_factory=list, examples=[["8080:80/tcp", "127.0.0.1:5353:53/udp"]]
    )
    """Ports published on the host, Docker's `[host_ip:]host_port:container_port[/proto]`
    (tcp, udp or sctp; default tcp): reachable from outside, from other containers
    through a host address, and from the host itself, localhost included."""
    command: Command | None = Field(
        default=None, examples=[["python3", "-m", "http.server", "80"], "sleep 3600"]
    )
    """A process to run in the container: an argv list, or a string run by `/bin/sh -c`.
    Without it, the container is a namespace only."""
    env: Env = Field(default_factory=dict, examples=[{"PORT": "8000"}])
    """Environment of the process (and of `netplan exec`), on top of PATH, HOME and
    HOSTNAME."""
    workdir: Workdir | None = Field(default=None, examples=["/srv"])
    """Working directory of the process (and of `netplan exec`); default `/`."""
    hostname: Hostname | None = Field(default=None, examples=["web.example"])
    """Hostname in the process's own UTS namespace; default: the container's name (in
    `host` mode the host's, in `container:X` mode X's)."""
    volumes: list[VolumeText] = Field(default_factory=list, examples=[["/srv/data:/data:ro"]])
    """Bind mounts, `host_path:container_path[:ro|rw]`, in the process's own mount
    namespace; the host path must exist on the container's host."""
    restart: Restart = "no"
    """`always`: a process found dead is drift, and apply starts it again; `no`: it runs
    once, and once it has exited it stays so (as with `docker run`)."""
    stop_timeout: int = Field(default=10, ge=0, le=3600)
    """Seconds between SIGTERM and SIGKILL when the process is stopped."""

    @field_validator(
        "networks",
        mode="before",
        json_schema_input_type=dict[Name, Attachment | None] | list[Name],
    )
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        """`networks: [a, b]` is short for `networks: {a: {}, b: {}}`; `a:` alone means `a: {}`."""
        return _mapping(NETWORKS.to_mapping(value))

    @field_validator("network_mode")
    @classmethod
    def _mode(cls, value: str | None) -> str | None:
        if value is None or value in ("none", "host"):
            return value
        if value.startswith("container:") and value != "container:":
            _name(value.removeprefix("container:"))
            return value
        raise FieldError(
            f"network_mode {value!r} must be 'none', 'host' or 'container:<name>'",
            "write one of these, or leave `network_mode:` out and list the container's "
            "`networks:`",
        )

    @property
    def shares_with(self) -> str | None:
        """The container whose namespace this one joins (`container:<name>` mode)."""
        if self.network_mode and self.network_mode.startswith("container:"):
            return self.network_mode.removeprefix("container:")
        return None


MAX_LABEL = 200
"""Longest check name: it is a line of a report, not a document."""


def _label(value: str) -> str:
    """One printable line: a name is echoed into terminals, JUnit XML and GitHub's
    `::error` workflow commands, where a newline or control character would start
    something else."""
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            raise FieldError(
                f"a check name must be one printable line, without U+{ord(char):04X} "
                f"({unicodedata.name(char, 'control character').lower()})",
                "remove the character, or leave `name:` out to show `<from> -> <to>`",
            )
    if not value.strip() or len(value) > MAX_LABEL:
        raise FieldError(
            f"a check name must have 1 to {MAX_LABEL} characters, not only spaces",
            f"write a name of at most {MAX_LABEL} characters, or leave `name:` out to show "
            "`<from> -> <to>`",
        )
    return value


def _source(value: str) -> str:
    parse_source(value)
    return value


def _target(value: str) -> str:
    parse_target(value)
    return value


class ReachabilityCheck(Strict):
    """A probe `netplan verify` runs from inside `from`'s namespace: ICMP echo, or a TCP
    connect / UDP exchange for `tcp://` / `udp://` targets."""

    model_config = ConfigDict(populate_by_name=True)

    name: Annotated[str, AfterValidator(_label)] | None = Field(
        default=None, examples=["web reaches db"])
    """Shown in reports; default `<from> -> <to>`."""
    source: Annotated[str, AfterValidator(_source)] = Field(
        alias="from", examples=["web", "host:hostA"]
    )
    """A container, or `host:<name>` for the host itself."""
    to: Annotated[str, AfterValidator(_target)] = Field(
        examples=["db", "10.0.0.1", "tcp://db:5432", "udp://10.0.0.2:53"]
    )
    """A container (its address on a network shared with `from`, else on a bridge of
    `from`'s host), an IPv4 address, or `tcp://TARGET:PORT` / `udp://TARGET:PORT`."""
    expect: Literal["reachable", "unreachable"] = "reachable"
    """What must happen for the check to pass."""
    retries: int = Field(default=2, ge=0, le=10)
    """Attempts after the first; `reachable` passes on any answered attempt."""
    timeout: float = Field(default=1.0, gt=0, le=30)
    """Seconds each attempt waits for an answer."""

    @property
    def label(self) -> str:
        return self.name or f"{self.source} -> {self.to}"


class Topology(Strict):
    """A netplan topology: hosts, the networks on them, and containers."""

    version: Annotated[Literal[1], BeforeValidator(_not_boolean)] = 1
    """Schema version of this file."""
    name: Name = Field(examples=["lab"])
    """Marks every object netplan makes for this topology on its hosts."""
    hosts: dict[Name, Host] = Field(default_factory=lambda: {"local": Host()})
    """Logical hosts, a list of names or a mapping; default: one host, `local`."""
    networks: dict[Name, Network] = Field(default_factory=dict)
    """Networks by name: `driver: bridge` (the default), `overlay` or `macvlan`."""
    containers: dict[Name, Container] = Field(default_factory=dict)
    """Containers (network namespaces) by name."""
    checks: list[ReachabilityCheck] = Field(default_factory=list)
    """Reachability checks `netplan verify` (and `apply --verify`) runs."""

    @field_validator(
        "hosts", mode="before", json_schema_input_type=dict[Name, Host | None] | list[Name]
    )
    @classmethod
    def _host_forms(cls, value: Any) -> Any:
        """`hosts: [a, b]` is short for `hosts: {a: {}, b: {}}`."""
        value = _mapping(HOSTS.to_mapping(value))
        if value == {}:
            raise FieldError(
                "`hosts:` lists no host",
                "list at least one host, or leave `hosts:` out for one host, 'local'",
            )
        return value

    @field_validator(
        "networks", mode="before", json_schema_input_type=dict[Name, Network] | None
    )
    @classmethod
    def _network_forms(cls, value: Any) -> Any:
        return _mapping(value)

    @field_validator(
        "containers", mode="before", json_schema_input_type=dict[Name, Container | None] | None
    )
    @classmethod
    def _container_forms(cls, value: Any) -> Any:
        return _mapping(value)

    def host_of_container(self, name: str) -> str:
        """Its `host`; else, in `container:X` mode, the host of X; else the default host."""
        container = self.containers[name]
        if container.host is not None:
            return container.host
        if container.network_mode is None:
            return self.default_host  # the common case, without the walk below
        seen = {name}
        while container.host is None:
            target = container.shares_with
            if target is None or target not in self.containers or target in seen:
                return self.default_host
            seen.add(target)
            container = self.containers[target]
        return container.host

    def gateway_network(self, name: str) -> str | None:
        """The network carrying a container's default route and published ports: its
        first bridge network that is not internal, or macvlan network with a gateway
        (none in `host`/`container:` mode; never an overlay, whose hosts hold no address
        on it). Ports published through a macvlan are ignored, as Docker ignores them."""
        container = self.containers[name]
        if container.network_mode is not None:
            return None
        return next(
            (n for n in container.networks
             if (isinstance(network := self.networks.get(n), BridgeNetwork)
                 and not network.internal)
             or (isinstance(network, MacvlanNetwork) and network.gateway is not None)),
            None,
        )

    def host_of_network(self, name: str) -> str:
        """The host of a bridge or macvlan network; an overlay spans several
        (hosts_of_network)."""
        network = self.networks[name]
        if isinstance(network, OverlayNetwork):
            raise TypeError(f"network {name!r} is an overlay: it spans hosts")
        return network.host or self.default_host

    def hosts_of_network(self, name: str) -> list[str]:
        """Where a network lives: a bridge on its one host; an overlay on its `hosts`,
        else on every host with a container on it (in the order of `hosts:`)."""
        network = self.networks[name]
        if not isinstance(network, OverlayNetwork):
            return [self.host_of_network(name)]
        if network.hosts is not None:
            return list(network.hosts)
        used = {self.host_of_container(c) for c, spec in self.containers.items()
                if name in spec.networks}
        return [host for host in self.hosts if host in used]

    @property
    def default_host(self) -> str:
        return next(iter(self.hosts))
