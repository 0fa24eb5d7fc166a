"""Network drivers (Docker's names): how a network and a container's attachment to it
become kernel resources on a host. One module per driver; registered here explicitly."""

from __future__ import annotations

from netplan.drivers import bridge, macvlan, overlay
from netplan.drivers.base import Driver

DRIVERS: dict[str, Driver] = {
    "bridge": Driver(bridge.compile_network, bridge.compile_attachment),
    "overlay": Driver(overlay.compile_network, overlay.compile_attachment),
    "macvlan": Driver(macvlan.compile_network, macvlan.compile_attachment),
}
