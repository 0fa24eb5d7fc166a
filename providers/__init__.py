"""How hosts are reached: one provider per way, registered explicitly in PROVIDERS.

A provider turns the topology's host names (and the `--inventory` the user gave, whose
meaning is the provider's) into one connector per host. Connecting is left to the
pipeline, which connects hosts in parallel: one host that cannot be reached does not
stop the others. Providers are imported when used, so the local path stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from netplan.errors import NetplanError
from providers.base import HostConnection
from providers.local import LocalConnection

Connector = Callable[[], HostConnection]
Provider = Callable[[Sequence[str], Path | None], dict[str, Connector]]


def local_hosts(hosts: Sequence[str], inventory: Path | None) -> dict[str, Connector]:
    """This machine, with the agent in-process."""
    if inventory is not None:
        raise NetplanError("the local provider takes no --inventory")
    if len(hosts) != 1:
        raise NetplanError(
            f"the local provider reaches exactly one host, the topology names {len(hosts)} "
            f"({', '.join(hosts)}) (hint: --provider lab, ssh or vagrant)"
        )
    return {hosts[0]: partial(LocalConnection, hosts[0])}


def ssh_hosts(hosts: Sequence[str], inventory: Path | None) -> dict[str, Connector]:
    """Hosts listed in an inventory file (--inventory FILE)."""
    from providers.inventory import ssh_provider

    return ssh_provider(hosts, inventory)


def vagrant_hosts(hosts: Sequence[str], inventory: Path | None) -> dict[str, Connector]:
    """The VMs of a Vagrantfile (--inventory path/to/Vagrantfile; default: ./Vagrantfile)."""
    from providers.vagrant import vagrant_provider

    return vagrant_provider(hosts, inventory)


def lab_hosts(hosts: Sequence[str], inventory: Path | None) -> dict[str, Connector]:
    """Simulated hosts on this machine (`netplan lab up`; --inventory: the lab's directory)."""
    from providers.lab import lab_provider

    return lab_provider(hosts, inventory)


PROVIDERS: dict[str, Provider] = {
    "local": local_hosts,
    "ssh": ssh_hosts,
    "vagrant": vagrant_hosts,
    "lab": lab_hosts,
}


def every_host(provider: str, inventory: Path | None) -> list[str]:
    """The hosts a provider reaches, for a command that has no topology file to name
    them (show --name): this machine; the lab's hosts; the inventory's; the Vagrantfile's
    VMs that are up."""
    if provider == "local":
        return ["local"]
    if provider == "lab":
        from providers.lab import Lab, lab_dir

        return list(Lab.load(lab_dir(inventory)).hosts)
    if provider == "ssh":
        from providers.inventory import load_inventory

        if inventory is None:
            raise NetplanError("the ssh provider needs an inventory file (hint: --inventory FILE)")
        return list(load_inventory(inventory))
    if provider == "vagrant":
        from providers.vagrant import ssh_config, vagrant_dir

        text, _ = ssh_config(vagrant_dir(inventory))
        return [line.split()[1] for line in text.splitlines() if line.startswith("Host ")]
    return []


def connectors(provider: str, hosts: Sequence[str], inventory: Path | None) -> dict[str, Connector]:
    """One connector per host: calling it opens the host's connection (or raises why not)."""
    try:
        factory = PROVIDERS[provider]
    except KeyError:
        known = ", ".join(PROVIDERS)
        raise NetplanError(f"unknown provider {provider!r} (hint: one of {known})") from None
    return factory(hosts, inventory)
