"""Static entries of an overlay bridge's forwarding table on its VXLAN port (`bridge fdb
add MAC dev vx-... master static`): a remote container's MAC leaves by the tunnel, and
the bridge floods its frames to no other port. The port learns nothing (vxlan.py), so
these are the only way a remote MAC gets there; they are ours because the port is.
Entries the kernel made (the port's own address, `permanent`) or learned are left out.
"""

from __future__ import annotations

import socket

from netplan.agent import rtnl
from netplan.agent.neighbour import NDA_LLADDR, NDMSG, message
from netplan.agent.nlmsg import (
    NLM_F_CREATE,
    NLM_F_REPLACE,
    RTM_DELNEIGH,
    RTM_GETNEIGH,
    RTM_NEWNEIGH,
    Message,
)
from netplan.agent.resources import ROOT, BridgeFdb, Vxlan
from netplan.agent.rtnl import Rtnl
from netplan.agent.session import Session

NTF_MASTER = 0x04
"""The table of the device's master (its bridge), not the device's own."""
NUD_NOARP = 0x40
"""A bridge entry's state for `static` (NUD_PERMANENT would make it `local`: frames for
it delivered to the host)."""
NDA_VLAN, NDA_MASTER = 5, 9  # linux/neighbour.h


def observe(sock: Rtnl, tunnels: dict[int, Vxlan]) -> list[BridgeFdb]:
    """The static entries of each tunnel's bridge that point at the tunnel (index →
    tunnel): one dump per tunnel, filtered by the kernel to that port."""
    found = []
    for index, tunnel in tunnels.items():
        for reply in sock.dump(rtnl.dump(RTM_GETNEIGH, message(socket.AF_BRIDGE, index))):
            _family, _index, state, _flags, _type = NDMSG.unpack_from(reply.body)
            mac = reply.attrs.get(NDA_LLADDR)
            if (state == NUD_NOARP and NDA_MASTER in reply.attrs and NDA_VLAN not in reply.attrs
                    and mac is not None and tunnel.bridge):
                found.append(BridgeFdb(tunnel.bridge, tunnel.name, mac.hex(":")))
    return found


def create(session: Session, entry: BridgeFdb) -> None:
    """Replacing whatever entry the bridge has for the MAC: one it learned through the
    port before its learning was turned off is made static here."""
    session.root.request(RTM_NEWNEIGH, _message(session, entry), NLM_F_CREATE | NLM_F_REPLACE)


def delete(session: Session, entry: BridgeFdb) -> None:
    session.root.request(RTM_DELNEIGH, _message(session, entry))


def _message(session: Session, entry: BridgeFdb) -> Message:
    return message(socket.AF_BRIDGE, session.index(ROOT, entry.dev), NUD_NOARP, NTF_MASTER,
                   NDA_LLADDR=entry.mac)
