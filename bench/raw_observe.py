"""The floor of netplan's no-op check, as one process (bench/apply_bench.py times it).

    python bench/raw_observe.py              # interpreter start + the kernel dumps
    python bench/raw_observe.py --imports    # + what every netplan command imports first
    python bench/raw_observe.py --cli        # + the CLI's imports only (a cached check's)

For the root namespace and every namespace in /run/netns, it dumps the links, the
addresses and the main table's unicast routes (IPv4, and IPv6 if the kernel has it), the
same requests netplan's observer sends (netplan/agent/links.py, address.py, route.py,
filtered in the kernel the same way), over a raw rtnetlink socket made inside the
namespace (netplan/agent/session.py). Replies are counted, not decoded: what is left is
the kernel's work, the system calls and the interpreter's loop. With --imports it first
imports IMPORTS: the interpreter start, the chosen dependencies (typer, pydantic, yaml)
and netplan's model, which every netplan command that loads a file pays before it
touches the kernel.

Standard library only (ctypes for setns(2): Python 3.11 has no os.setns). Prints one
JSON line: namespaces, messages, bytes.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import socket
import struct
import sys

CLI = ("typer",)
"""What parsing a command line imports (typer below 0.29: no pydantic). A check through
netplan's compile cache imports no more of the dependencies."""
DEPENDENCIES = (*CLI, "pydantic", "yaml")
"""The chosen dependencies as a netplan command that loads a file imports them."""
IMPORTS = (*DEPENDENCIES, "netplan.topology.model")
"""What every netplan command that loads a file imports before it touches the kernel: the
dependencies and netplan's model (its pydantic classes are built when it is imported)."""

RUN_NETNS = "/run/netns"
CLONE_NEWNET = 0x40000000
SOL_NETLINK = 270
NETLINK_GET_STRICT_CHK = 12
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE = 18, 22, 26
IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS = 29, 1 << 3
RT_TABLE_MAIN, RTN_UNICAST = 254, 1

_HEADER = struct.Struct("=IHHII")  # struct nlmsghdr


def _request(kind: int, body: bytes) -> bytes:
    return _HEADER.pack(_HEADER.size + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, 0, 0) + body


def _rtmsg(family: int) -> bytes:
    return struct.pack("=BBBBBBBBI", family, 0, 0, 0, RT_TABLE_MAIN, 0, 0, RTN_UNICAST, 0)


def dumps() -> list[bytes]:
    """The dump requests of one namespace, packed once."""
    families = [socket.AF_INET] + ([socket.AF_INET6] if os.path.isdir("/proc/sys/net/ipv6")
                                   else [])
    ext_mask = struct.pack("=HHI", 8, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)
    return [
        _request(RTM_GETLINK, struct.pack("=BxHiII", 0, 0, 0, 0, 0) + ext_mask),
        _request(RTM_GETADDR, struct.pack("=BBBBI", 0, 0, 0, 0, 0)),
        *(_request(RTM_GETROUTE, _rtmsg(family)) for family in families),
    ]


def read_dump(sock: socket.socket, buffer: bytearray) -> tuple[int, int]:
    """(messages, bytes) of one dump, read until its NLMSG_DONE (or error: a namespace
    without a main table answers ENOENT), headers only."""
    messages = size = 0
    view = memoryview(buffer)
    while True:
        received = sock.recv_into(buffer)
        size += received
        offset = 0
        while offset + _HEADER.size <= received:
            length, kind, _, _, _ = _HEADER.unpack_from(view, offset)
            if kind in (NLMSG_DONE, NLMSG_ERROR) or length < _HEADER.size:
                return messages, size
            messages += 1
            offset += (length + 3) & ~3


def new_socket() -> socket.socket:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                         socket.NETLINK_ROUTE)
    sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
    sock.bind((0, 0))
    return sock


def observe() -> dict[str, int]:
    libc = ctypes.CDLL(None, use_errno=True)
    requests = dumps()
    buffer = bytearray(1 << 16)
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    names = sorted(os.listdir(RUN_NETNS)) if os.path.isdir(RUN_NETNS) else []
    counts = {"namespaces": 0, "messages": 0, "bytes": 0}

    def dump_all(sock: socket.socket) -> None:
        for request in requests:
            sock.send(request)
            messages, size = read_dump(sock, buffer)
            counts["messages"] += messages
            counts["bytes"] += size

    with new_socket() as root:
        dump_all(root)
    for name in names:
        fd = os.open(os.path.join(RUN_NETNS, name), os.O_RDONLY | os.O_CLOEXEC)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns {name}")
            try:
                sock = new_socket()
            finally:
                if libc.setns(home, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(fd)
        with sock:
            dump_all(sock)
        counts["namespaces"] += 1
    os.close(home)
    return counts


def main(argv: list[str]) -> int:
    if argv not in ([], ["--imports"], ["--cli"]):
        print("usage: raw_observe.py [--imports | --cli]", file=sys.stderr)
        return 2
    for module in {"--imports": IMPORTS, "--cli": CLI}.get(argv[0], ()) if argv else ():
        importlib.import_module(module)
    print(json.dumps(observe()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
