"""A model of the kernel for the planner's unit tests: what each step does, with the
deletes the kernel makes by itself, and the refusals that catch steps in a wrong order.

- Deleting a resource deletes its descendants (a namespace its links, a link its
  addresses and routes).
- Deleting a primary IPv4 address deletes the secondaries of its subnet on its device
  (promote_secondaries is off in a new namespace); the primary is the first one added.
- Deleting a device's last IPv4 address deletes the device's routes.
- Deleting a link deletes the macvlans on it (a VLAN made as a parent takes them along).
- Deleting a bridge deletes its static entries (BridgeFdb), and so does a VXLAN device
  leaving it (an update of its `bridge`) for the entries on that port; its ports stay,
  on no bridge.
- A create or an update needs what the resource requires to be there ("a link it needs
  does not exist"): a veth its namespace and its bridge. Only what the kernel or the steps
  have is looked for: a fixture leaves out what it does not plan (the host's own uplink).
- A route through a gateway needs an IPv4 address on its device whose subnet holds the
  gateway ("Nexthop has invalid gateway"); an update needs the resource to be there.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from netplan.agent.resources import (
    ROOT,
    Address,
    Bridge,
    BridgeFdb,
    Macvlan,
    Resource,
    Route,
    Veth,
    Vxlan,
    link_key,
)
from netplan.agent.state import Step

Kernel = dict[str, Resource]
"""Resources by key, in the order they were made (which tells a primary address)."""


def run(kernel: Kernel, steps: list[Step]) -> Kernel:
    result = dict(kernel)
    known = set(kernel) | {step.resource.key for step in steps}
    for step in steps:
        key = step.resource.key
        if step.op == "delete":
            assert key in result, f"delete of {key}, which is not there"
            _delete(result, key)
        elif step.op == "create":
            assert key not in result, f"create of {key}, which is there"
            _check_required(result, step.resource, known)
            _check_gateway(result, step.resource)
            result[key] = step.resource
        else:
            assert key in result, f"update of {key}, which is not there"
            changed = {name: getattr(step.resource, name) for name in step.fields}
            updated = replace(result[key], **changed)  # type: ignore[type-var]
            _check_required(result, updated, known)
            _check_gateway(result, updated)
            _leave_bridge(result, result[key], updated)
            result[key] = updated
    return result


def descends(kernel: Kernel, key: str, ancestor: str) -> bool:
    parent = kernel[key].parent()
    while parent is not None and parent in kernel:
        if parent == ancestor:
            return True
        parent = kernel[parent].parent()
    return False


def _delete(kernel: Kernel, key: str) -> None:
    resource = kernel[key]
    gone = [k for k in kernel if k == key or descends(kernel, k, key)]
    root_link = link_key(ROOT, "")
    if key.startswith(root_link):
        lower = key.removeprefix(root_link)
        gone += [k for k, r in kernel.items() if isinstance(r, Macvlan) and r.lower == lower]
    if isinstance(resource, Bridge):
        gone += [k for k, r in kernel.items()
                 if isinstance(r, BridgeFdb) and r.bridge == resource.name]  # fmt: skip
        for port in [r for r in kernel.values() if isinstance(r, Veth | Vxlan)
                     and r.bridge == resource.name]:  # fmt: skip
            kernel[port.key] = replace(port, bridge="")
    if isinstance(resource, Address) and _ipv4(resource) is not None:
        gone += _secondaries(kernel, resource)
    for each in gone:
        del kernel[each]
    if isinstance(resource, Address) and not _ipv4_addresses(kernel, resource.netns, resource.dev):
        for route in [r for r in kernel.values() if isinstance(r, Route)
                      and (r.netns, r.dev) == (resource.netns, resource.dev)]:  # fmt: skip
            del kernel[route.key]


def _leave_bridge(kernel: Kernel, before: Resource, after: Resource) -> None:
    """A port that leaves its bridge takes the bridge's entries on it along."""
    if isinstance(before, Vxlan) and isinstance(after, Vxlan) and before.bridge != after.bridge:
        for entry in [r for r in kernel.values() if isinstance(r, BridgeFdb)
                      and (r.bridge, r.dev) == (before.bridge, before.name)]:  # fmt: skip
            del kernel[entry.key]


def _secondaries(kernel: Kernel, address: Address) -> list[str]:
    """The other addresses of `address`'s subnet on its device, if it is their primary."""
    network = ipaddress.ip_interface(address.cidr).network
    same = [a for a in _ipv4_addresses(kernel, address.netns, address.dev)
            if ipaddress.ip_interface(a.cidr).network == network]  # fmt: skip
    return [a.key for a in same[1:]] if same and same[0] == address else []


def _ipv4_addresses(kernel: Kernel, netns: str, dev: str) -> list[Address]:
    return [r for r in kernel.values() if isinstance(r, Address)
            and (r.netns, r.dev) == (netns, dev) and _ipv4(r) is not None]  # fmt: skip


def _ipv4(address: Address) -> ipaddress.IPv4Interface | None:
    ip = ipaddress.ip_interface(address.cidr)
    return ip if isinstance(ip, ipaddress.IPv4Interface) else None


def _check_required(kernel: Kernel, resource: Resource, known: set[str]) -> None:
    missing = [key for key in resource.requires() if key in known and key not in kernel]
    assert not missing, f"{resource.key}: needs {', '.join(missing)}, which is not there"


def _check_gateway(kernel: Kernel, resource: Resource) -> None:
    if not isinstance(resource, Route) or resource.gateway is None:
        return
    gateway = ipaddress.ip_address(resource.gateway)
    if gateway.version != 4:
        return
    on_link = [a for a in _ipv4_addresses(kernel, resource.netns, resource.dev)
               if gateway in ipaddress.ip_interface(a.cidr).network]  # fmt: skip
    assert on_link, f"{resource.key}: gateway {gateway} is not on {resource.dev}'s subnets"
