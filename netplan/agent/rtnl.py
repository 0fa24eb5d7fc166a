"""A small synchronous rtnetlink socket: requests packed by netplan.agent.nlmsg, and the
few fields we need read from what comes back.

Measured at 500 namespaces: pyroute2's IPRoute costs ~0.5 ms a message (an asyncio loop
per socket, dumps filtered in Python); pyroute2's decoding alone ~0.25 ms a link message
(it builds an object for each of ~45 attributes); reading the handful of attributes the
agent uses with struct ~0.02 ms. Dumps are filtered in the kernel (NETLINK_GET_STRICT_CHK).
"""

from __future__ import annotations

import errno
import os
import socket
import struct

from netplan.agent.nlmsg import (
    NETLINK_ROUTE,
    NLM_F_ACK,
    NLM_F_ACK_TLVS,
    NLM_F_DUMP,
    NLM_F_DUMP_INTR,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    Message,
)

SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NETLINK_GET_STRICT_CHK = 12
NLMSGERR_ATTR_MSG = 1
NLA_TYPE_MASK = 0x3FFF

_HEADER = struct.Struct("=IHHII")  # struct nlmsghdr
_ATTR = struct.Struct("=HH")  # struct nlattr
_SEQ = struct.Struct("=I")
_U32 = struct.Struct("=I")
_S32 = struct.Struct("=i")
_DUMP_RETRIES = 5
_BUFFER = 1 << 16
_MSG_TRUNC = int(socket.MSG_TRUNC)
"""A plain int: `&` with the socket module's enum member goes through enum's Python code."""


class NetlinkError(OSError):
    """The kernel refused a request: `errno` says why; `extack` is its own words, if any."""

    def __init__(self, code: int, extack: str = "") -> None:
        super().__init__(code, os.strerror(code))
        self.extack = extack

    def __reduce__(self) -> tuple[type[NetlinkError], tuple[int, str]]:
        """Pickled as it was made (netplan/agent/split.py sends it from a child)."""
        return NetlinkError, (self.errno or 0, self.extack)


def attributes(data: bytes, offset: int, end: int) -> dict[int, bytes]:
    """The attributes in data[offset:end] by type (the first of each), payloads raw.
    The hottest loop of an observation (a link has ~40 attributes): the struct's method
    and the dict's are bound once, ~25% less per message than looked up each time."""
    found: dict[int, bytes] = {}
    unpack, keep = _ATTR.unpack_from, found.setdefault
    while offset + 4 <= end:
        length, kind = unpack(data, offset)
        if length < 4:
            break
        keep(kind & NLA_TYPE_MASK, data[offset + 4 : offset + length])
        offset += (length + 3) & ~3
    return found


_Layout = tuple[struct.Struct, tuple[int, ...], tuple[tuple[int, int, int], ...]]
_LAYOUTS = 64
"""The most layouts a Picker keeps (a link dump holds a few: one per length of the names
and markers in it); more, and it forgets them all and starts again."""


class Picker:
    """Reads the attributes of the `wanted` types out of attribute lists that the kernel
    writes alike, payloads raw: a bridge port's ~40 settings, read for every port netplan
    owns; a link's ~40 attributes in a dump, of which Link.decode reads 9.

    A list is walked attribute by attribute up to the last one wanted, and the headers it
    walked are remembered by the list's length; the next list as long whose headers are
    those same (lengths, types: one struct call and one tuple compare) is read at the same
    offsets, which is what the walk would find there. Any other list is walked, and
    remembered too. The settings of 500 ports read so took ~0.8 ms here, walked ~4 ms,
    through attributes() ~6 ms; the 3,002 link messages of an observation of 1,000
    namespaces 11-14 ms, walked 40-64 ms (bench/observe_ab.py)."""

    def __init__(self, wanted: frozenset[int]) -> None:
        self.wanted = wanted
        self._layouts: dict[int, _Layout] = {}
        """By the length of the list walked: the headers walked (a struct of them, their
        lengths and types), and the type, start and end of each payload wanted, counted
        from the list's start; each value replaced whole."""

    def pick(self, data: bytes, offset: int = 0) -> dict[int, bytes]:
        """The wanted attributes of the list in data[offset:]."""
        layout = self._layouts.get(len(data) - offset)
        if layout is not None:
            headers, expected, at = layout
            if headers.unpack_from(data, offset) == expected:
                return {kind: data[offset + start : offset + end] for kind, start, end in at}
        return self._walk(data, offset)

    def _walk(self, data: bytes, offset: int) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        walked: list[tuple[int, int]] = []
        at: list[tuple[int, int, int]] = []
        position, end = offset, len(data)
        while len(found) < len(self.wanted) and position + 4 <= end:
            length, kind = _ATTR.unpack_from(data, position)
            if length < 4 or position + length > end:
                return found  # malformed: not a layout to remember
            walked.append((length, kind))
            kind &= NLA_TYPE_MASK
            if kind in self.wanted and kind not in found:
                found[kind] = data[position + 4 : position + length]
                at.append((kind, position + 4 - offset, position + length - offset))
            position += (length + 3) & ~3
        if walked:
            if len(self._layouts) >= _LAYOUTS:
                self._layouts.clear()
            self._layouts[end - offset] = (
                _headers(walked), tuple(v for header in walked for v in header), tuple(at))
        return found


def _headers(walked: list[tuple[int, int]]) -> struct.Struct:
    """The attribute headers of `walked` (lengths and types, in order, from offset 0), each
    followed by its payload and padding, the last one's payload included: a nest that
    matches holds every payload to read."""
    layout = ["="]
    for length, _ in walked[:-1]:
        layout.append(f"HH{((length + 3) & ~3) - 4}x")
    layout.append(f"HH{walked[-1][0] - 4}x")
    return struct.Struct("".join(layout))


class Reply:
    """One message from the kernel: its family header (`body`, to unpack with the right
    struct) and its attributes by type (with a `picker`, only those it wants)."""

    __slots__ = ("attrs", "body", "flags")

    def __init__(self, data: bytes, flags: int, header: int, picker: Picker | None = None) -> None:
        self.flags = flags
        self.body = data[_HEADER.size :]
        if picker is None:
            self.attrs = attributes(self.body, header, len(self.body))
        else:
            self.attrs = picker.pick(self.body, header)

    def u32(self, kind: int) -> int | None:
        value = self.attrs.get(kind)
        return None if value is None else int(_U32.unpack_from(value)[0])

    def s32(self, kind: int) -> int | None:
        value = self.attrs.get(kind)
        return None if value is None else int(_S32.unpack_from(value)[0])

    def string(self, kind: int) -> str | None:
        value = self.attrs.get(kind)
        return None if value is None else value.rstrip(b"\0").decode(errors="replace")


class Query:
    """A request packed once and sent as often as needed (its sequence number is set at
    each send). Replies carry a family header of the size of `msg`'s; with a `picker`,
    their attributes are those it wants."""

    def __init__(self, msg_type: int, msg: Message, flags: int = 0,
                 picker: Picker | None = None) -> None:
        self.flags = NLM_F_REQUEST | flags
        self.picker = picker
        body = msg.body()
        self.data = bytearray(_HEADER.pack(_HEADER.size + len(body), msg_type, self.flags, 0, 0))
        self.data += body
        self.header = (len(msg.header) + 3) & ~3


def dump(msg_type: int, msg: Message, picker: Picker | None = None) -> Query:
    return Query(msg_type, msg, NLM_F_DUMP, picker)


def get(msg_type: int, msg: Message) -> Query:
    return Query(msg_type, msg)


def _extack(data: bytes, offset: int, end: int) -> str:
    """The NLMSGERR_ATTR_MSG text that follows an error's capped request header."""
    message = attributes(data, offset + _HEADER.size + 4 + _HEADER.size, end)
    text = message.get(NLMSGERR_ATTR_MSG, b"")
    return text.rstrip(b"\0").decode(errors="replace")


class Rtnl:
    """One NETLINK_ROUTE socket (or another netlink `protocol`). It stays bound to the
    network namespace of the thread that created it, whatever namespace the thread is in
    later."""

    def __init__(self, protocol: int = NETLINK_ROUTE) -> None:
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                                   protocol)
        for option in (NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK):
            self._sock.setsockopt(SOL_NETLINK, option, 1)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self._sock.bind((0, 0))
        self._seq = 0

    def close(self) -> None:
        self._sock.close()

    def request(self, msg_type: int, msg: Message, flags: int = 0) -> None:
        """Send a change (RTM_NEW*/RTM_DEL*) and wait for the kernel's acknowledgement."""
        self._exchange(Query(msg_type, msg, NLM_F_ACK | flags))

    def get(self, query: Query) -> Reply:
        """Send a single-object query (e.g. a link by name) and return the reply."""
        return self._exchange(query)[0]

    def dump(self, query: Query) -> list[Reply]:
        """Dump objects; the query's header fields and attributes filter in the kernel."""
        for _ in range(_DUMP_RETRIES):
            replies = self._exchange(query)
            if not any(r.flags & NLM_F_DUMP_INTR for r in replies):
                break
        return replies

    def _exchange(self, query: Query) -> list[Reply]:
        self._seq += 1
        _SEQ.pack_into(query.data, 8, self._seq)
        self._sock.send(query.data)
        replies: list[Reply] = []
        while True:
            data, _, truncated, _ = self._sock.recvmsg(_BUFFER)
            if truncated & _MSG_TRUNC:  # a dump part is at most 32 KiB: never here
                raise NetlinkError(errno.EMSGSIZE, "netlink reply larger than the buffer")
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, kind, flags, seq, _ = _HEADER.unpack_from(data, offset)
                if length < _HEADER.size:
                    raise NetlinkError(errno.EPROTO, "truncated netlink message")
                end = offset + length
                if seq == self._seq:
                    if kind in (NLMSG_ERROR, NLMSG_DONE):
                        code = -_S32.unpack_from(data, offset + _HEADER.size)[0]
                        if code:
                            text = _extack(data, offset, end) if flags & NLM_F_ACK_TLVS else ""
                            raise NetlinkError(code, text)
                        return replies
                    replies.append(Reply(data[offset:end], flags, query.header, query.picker))
                    if not query.flags & (NLM_F_DUMP | NLM_F_ACK):
                        return replies
                offset = (end + 3) & ~3
