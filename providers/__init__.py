"""How hosts are reached: one provider per way (local now; ssh, vagrant and lab next)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from netplan.errors import NetplanError
from providers.base import HostConnection
from providers.local import LocalConnection


def connect_local(hosts: Sequence[str]) -> dict[str, HostConnection]:
    if len(hosts) != 1:
        raise NetplanError(
            f"the local provider reaches exactly one host, the topology names {len(hosts)} "
            f"({', '.join(hosts)}) (hint: give each host a provider that can reach it)"
        )
    return {hosts[0]: LocalConnection(hosts[0])}


PROVIDERS: dict[str, Callable[[Sequence[str]], dict[str, HostConnection]]] = {
    "local": connect_local,
}


def connect(provider: str, hosts: Sequence[str]) -> dict[str, HostConnection]:
    try:
        factory = PROVIDERS[provider]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise NetplanError(f"unknown provider {provider!r} (hint: one of {known})") from None
    return factory(hosts)
