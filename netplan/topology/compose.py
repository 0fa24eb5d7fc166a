"""Docker Compose's names for what netplan spells otherwise, for the hint of an unknown
field: `ports:` in a container hints "netplan calls it `publish:` (Compose's `ports:`)".

A name is looked up wherever it is written: the hint names the netplan field when the
place takes it, or where it belongs when it goes elsewhere (`mac_address:` of a service
is `mac:` of an attachment).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import NamedTuple


class Spelling(NamedTuple):
    field: str
    """netplan's field, or empty when netplan has none and `note` says what to write."""
    note: str = ""
    """What else differs (units, form), or what to write instead."""
    near: str = ""
    """For a name netplan has no field for: a field of the place Compose writes it, the
    only place the note is given (`ipam:` means something only beside `subnet:`)."""


_IPAM = "write `subnet:`, `ip_range:` and `gateway:` on the network itself"

SPELLINGS = {
    # services.<service> → containers.<container>
    "services": Spelling("containers"),
    "ports": Spelling("publish"),
    "environment": Spelling("env", "as a mapping NAME: value"),
    "working_dir": Spelling("workdir"),
    "stop_grace_period": Spelling("stop_timeout", "in seconds"),
    "mac_address": Spelling("mac"),
    "entrypoint": Spelling("command", "the whole argv: netplan has no images"),
    "container_name": Spelling(
        "", "a container's name is its key under `containers:`", near="network_mode"),
    # services.<service>.networks.<network> → an attachment
    "ipv4_address": Spelling("ipv4"),
    # networks.<network>
    "ipam": Spelling("", _IPAM, near="subnet"),
    "config": Spelling("", _IPAM, near="subnet"),
}
"""Compose's name → netplan's, for names netplan does not take as they are."""

DRIVER_OPTION_FIELDS = ("bridge", "mtu", "nat", "icc", "vni", "parent", "mode")
"""netplan's network fields that stand for Docker driver options (`driver_opts:`):
com.docker.network.bridge.name, .driver.mtu, .bridge.enable_ip_masquerade,
.bridge.enable_icc, .driver.overlay.vxlanid_list, and macvlan's parent and macvlan_mode."""


def compose_hint(name: str, fields: Collection[str], homes: Mapping[str, str]) -> str:
    """The hint for an unknown field `name` that is Compose's spelling of a netplan one;
    empty for any other name. `fields` are the fields of the place it was written,
    `homes` where each other field of the file is written."""
    if name == "driver_opts" and "subnet" in fields:
        options = ", ".join(f"`{field}:`" for field in DRIVER_OPTION_FIELDS if field in fields)
        return f"netplan writes driver options as the network's own fields: {options}"
    spelling = SPELLINGS.get(name)
    if spelling is None:
        return ""
    note = f", {spelling.note}" if spelling.note else ""
    if not spelling.field:
        return f"netplan has no `{name}:`; {spelling.note}" if spelling.near in fields else ""
    if spelling.field in fields:
        return f"netplan calls it `{spelling.field}:` (Compose's `{name}:`){note}"
    if spelling.field in homes:
        return (f"netplan calls it `{spelling.field}:`, under {homes[spelling.field]} "
                f"(Compose's `{name}:`){note}")
    return ""
