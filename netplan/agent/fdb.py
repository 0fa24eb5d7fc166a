"""Forwarding entries of our VXLAN devices (`bridge fdb ... self`): to which remote VTEP
a MAC is tunnelled. The flood MAC (all zeros) has one entry per remote VTEP, appended:
head-end replication of broadcast and unknown destinations. They are ours because the
device is; entries the device learned from traffic are the kernel's and are left out.
"""

from __future__ import annotations

import socket

from netplan.agent import rtnl
from netplan.agent.neighbour import NDA_DST, NDA_LLADDR, NUD_PERMANENT, address, message, permanent
from netplan.agent.nlmsg import (
    NLM_F_APPEND,
    NLM_F_CREATE,
    NLM_F_REPLACE,
    RTM_DELNEIGH,
    RTM_GETNEIGH,
    RTM_NEWNEIGH,
    Message,
)
from netplan.agent.resources import FLOOD_MAC, ROOT, Fdb
from netplan.agent.rtnl import Rtnl
from netplan.agent.session import Session

NTF_SELF = 0x02
"""The device's own table (a VXLAN device's), not its bridge's."""


def observe(sock: Rtnl, devices: dict[int, str]) -> list[Fdb]:
    """The permanent entries of each of `devices` (index → name): one dump per device,
    filtered by the kernel (ndm_ifindex); a flood entry comes once per remote."""
    found = []
    for index, dev in devices.items():
        for reply in sock.dump(rtnl.dump(RTM_GETNEIGH, message(socket.AF_BRIDGE, index))):
            entry = permanent(reply)
            mac, dst = reply.attrs.get(NDA_LLADDR), reply.attrs.get(NDA_DST)
            if entry and entry[1] & NTF_SELF and mac is not None and dst is not None:
                found.append(Fdb(dev, mac.hex(":"), address(dst)))
    return found


def create(session: Session, entry: Fdb) -> None:
    """A flood entry is appended to the others. A MAC has one VTEP: whatever entry the
    device has for it is replaced, so one learned, or made non-permanent by hand (not
    observed as ours), becomes this one instead of failing as existing."""
    how = NLM_F_APPEND if entry.mac == FLOOD_MAC else NLM_F_REPLACE
    session.root.request(RTM_NEWNEIGH, _message(session, entry), NLM_F_CREATE | how)


def delete(session: Session, entry: Fdb) -> None:
    """Only this MAC's entry to this VTEP: the MAC's entries to other VTEPs stay."""
    session.root.request(RTM_DELNEIGH, _message(session, entry))


def _message(session: Session, entry: Fdb) -> Message:
    return message(socket.AF_BRIDGE, session.index(ROOT, entry.dev), NUD_PERMANENT, NTF_SELF,
                   NDA_LLADDR=entry.mac, NDA_DST=entry.dst)
