"""The netlink messages of the incremental add, counted exactly by an independent observer:
`strace -f`, attached to the benchmark's own process while the add runs, decodes every
netlink message that the add's processes send (netplan and its agent's forked children,
or the `ip` processes of a script).

A write is a request that changes the kernel: rtnetlink's RTM_NEW*, RTM_DEL* and
RTM_SET*, and nftables' NFT_MSG_NEW*/DEL*/DESTROY* inside a batch. A read is a RTM_GET*
or NFT_MSG_GET* dump or query. Neither are the batch's framing (NFNL_MSG_BATCH_BEGIN/END)
and the probe iproute2 sends as it starts (a link message naming no link), counted apart.
Whose objects the writes change is ip monitor's part (bench/add_monitor.py). Not netlink,
so not counted: making a namespace (unshare and a bind mount), sysctls (files under
/proc/sys), the hosts files.

Only sends the kernel accepted are counted (`-z`: successful system calls only); whether
it then carried out the request is in its acknowledgement, which the add checks. Untimed:
ptrace stops every traced process at each traced system call.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

STRACE = ("strace", "-f", "-z", "-e", "trace=sendto,sendmsg", "-e", "signal=none",
          "-s", "65536", "-xx")  # fmt: skip
"""-s: arrays printed whole (a batch's messages are an array); -xx: strings in hex."""
ATTACH_WAIT = 20.0
MESSAGE = re.compile(r"\{nlmsg_len=(\d+), nlmsg_type=([^,]+?)(?: /\* NLMSG_\?\?\? \*/)?, "
                     r"nlmsg_flags=[^}]*\}, (?:\{[^}]*ifi_index=([^,]+)|\"((?:\\x[0-9a-f]{2})*))?")
"""A message's header, and the start of its body: the link index strace decoded (a number,
or `if_nametoindex(NAME)`), or the body's bytes in hex where strace could not decode it."""
RTNETLINK = {16: "RTM_NEWLINK", 17: "RTM_DELLINK", 18: "RTM_GETLINK", 19: "RTM_SETLINK",
             20: "RTM_NEWADDR", 21: "RTM_DELADDR", 22: "RTM_GETADDR", 24: "RTM_NEWROUTE",
             25: "RTM_DELROUTE", 26: "RTM_GETROUTE", 28: "RTM_NEWNEIGH", 29: "RTM_DELNEIGH",
             30: "RTM_GETNEIGH", 80: "RTM_NEWNETCONF", 82: "RTM_GETNETCONF",
             88: "RTM_NEWNSID", 89: "RTM_DELNSID", 90: "RTM_GETNSID"}  # fmt: skip
NFTABLES = 10
"""NFNL_SUBSYS_NFTABLES: an nftables message's type is this << 8 | NFT_MSG_*."""
NFT_MESSAGES = ("NEWTABLE", "GETTABLE", "DELTABLE", "NEWCHAIN", "GETCHAIN", "DELCHAIN",
                "NEWRULE", "GETRULE", "DELRULE", "NEWSET", "GETSET", "DELSET", "NEWSETELEM",
                "GETSETELEM", "DELSETELEM", "NEWGEN", "GETGEN")  # fmt: skip
BATCH = {16: "NFNL_MSG_BATCH_BEGIN", 17: "NFNL_MSG_BATCH_END"}
"""strace decodes a socket's messages only when it can tell the socket's protocol, which
it cannot for a socket in another network namespace: those arrive as numbers. A number
below 256 is rtnetlink's, unless the same send holds nftables messages: then it is a
batch's framing."""
LINK_ONLY = 32
"""nlmsg_len of a link message without attributes: with link index 0 (iproute2 sends one
as it starts) it names no link and can change nothing."""
WRITES = re.compile(r"^(RTM_(NEW|DEL|SET)|NFT_MSG_(NEW|DEL|DESTROY))")
READS = re.compile(r"^(RTM_GET|NFT_MSG_GET)")


class TraceError(RuntimeError):
    """strace did not attach, or is missing."""


def count_writes(add: Callable[[], None]) -> dict[str, Any]:
    """Run `add` with every netlink message its processes send decoded by strace; the
    counts (`writes`, `reads`, `other` messages; each write's type), and the names and
    addresses the writes carry."""
    with TemporaryDirectory(prefix="add-writes-") as directory:
        trace, errors = Path(directory) / "trace", Path(directory) / "errors"
        with open(errors, "w") as stderr:
            try:
                tracer = subprocess.Popen([*STRACE, "-o", str(trace), "-p", str(os.getpid())],
                                          stdin=subprocess.DEVNULL, stderr=stderr)  # fmt: skip
            except OSError as exc:
                raise TraceError(f"cannot run strace: {exc}") from exc
        try:
            _wait_attached(tracer, errors)
            add()
        finally:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=ATTACH_WAIT)
        return messages_of(trace.read_text())


def count_into(counts: dict[str, Any], add: Callable[[], None]) -> None:
    """count_writes(add), into `counts`."""
    counts.update(count_writes(add))


def _wait_attached(tracer: subprocess.Popen[bytes], errors: Path) -> None:
    """Until strace says it has attached (it prints that once the process is stopped under
    it: nothing this process starts afterwards escapes it)."""
    deadline = time.monotonic() + ATTACH_WAIT
    while time.monotonic() < deadline:
        said = errors.read_text()
        if "attached" in said:
            return
        if tracer.poll() is not None:
            raise TraceError(f"strace ended before it attached: {said.strip()[:300]}")
        time.sleep(0.01)
    tracer.kill()
    raise TraceError("strace did not attach")


def messages_of(trace: str) -> dict[str, Any]:
    """The netlink messages in strace's output, counted: `writes` (and each write type's
    count), `reads`, `probes` (link messages that name no link), `other` (the batches'
    framing, anything else)."""
    kinds: Counter[str] = Counter()
    for line in trace.splitlines():
        found = MESSAGE.findall(line)
        batch = any(_is_nftables(kind) for _, kind, _, _ in found)
        for length, kind, index, body in found:
            kind = _named(kind.rpartition("|")[2], batch)
            if kind.endswith("LINK") and int(length) == LINK_ONLY and _index(index, body) == 0:
                kind = "probe"
            kinds[kind] += 1
    writes = {kind: count for kind, count in kinds.items() if WRITES.match(kind)}
    reads = sum(count for kind, count in kinds.items() if READS.match(kind))
    other = sum(kinds.values()) - sum(writes.values()) - reads - kinds["probe"]
    return {"writes": sum(writes.values()), "by_type": dict(sorted(writes.items())),
            "reads": reads, "probes": kinds["probe"], "other": other}  # fmt: skip


def _is_nftables(kind: str) -> bool:
    return kind.startswith("NFNL_") or (kind.startswith("0x") and int(kind, 16) >> 8 == NFTABLES)


def _named(kind: str, batch: bool) -> str:
    """A type as strace decoded it, or its name where it printed a number (in a send
    with nftables messages, `batch`)."""
    if not kind.startswith("0x"):
        return kind
    number = int(kind, 16)
    if number >> 8 == NFTABLES and number & 0xFF < len(NFT_MESSAGES):
        return f"NFT_MSG_{NFT_MESSAGES[number & 0xFF]}"
    return (BATCH if batch else RTNETLINK).get(number, kind)


def _index(decoded: str, body: str) -> int | None:
    """The link index of a link message: as strace decoded it, or from its raw body
    (struct ifinfomsg: family, pad, type, then the index)."""
    if decoded:
        return int(decoded) if decoded.isdigit() else None
    raw = bytes.fromhex(body.replace("\\x", ""))
    return int.from_bytes(raw[4:8], "little", signed=True) if len(raw) >= 8 else None
