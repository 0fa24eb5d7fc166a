"""bench/add_writes.py counts the netlink messages in strace's output (lines as strace 6.1
prints them with -f -xx, from an `ip` script's add and netplan's): decoded and undecoded
types, iproute2's probe, an nftables batch."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
add_writes = importlib.import_module("add_writes")

VETH_CREATED = (
    '20    sendmsg(3, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, '
    'msg_namelen=12, msg_iov=[{iov_base=[{nlmsg_len=96, nlmsg_type=RTM_NEWLINK, '
    'nlmsg_flags=NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE, nlmsg_seq=1796643568, '
    'nlmsg_pid=0}, {ifi_family=AF_UNSPEC, ifi_type=ARPHRD_NETROM, ifi_index=0, ifi_flags=0, '
    'ifi_change=0}, [[{nla_len=8, nla_type=IFLA_IFNAME}, "\\x76\\x74\\x31\\x00"]]], '
    'iov_len=96}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 96'
)
PROBE = (
    '20    sendto(3, [{nlmsg_len=32, nlmsg_type=RTM_NEWLINK, nlmsg_flags=NLM_F_REQUEST|NLM_F_ACK, '
    'nlmsg_seq=0, nlmsg_pid=0}, {ifi_family=AF_UNSPEC, ifi_type=ARPHRD_NETROM, ifi_index=0, '
    'ifi_flags=0, ifi_change=0}], 32, 0, NULL, 0) = 32'
)
LINK_UP = PROBE.replace("ifi_index=0", 'ifi_index=if_nametoindex("\\x76\\x74\\x31")')
ADDRESS_IN_A_NAMESPACE = (
    '21    sendmsg(3, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, '
    'msg_namelen=12, msg_iov=[{iov_base=[{nlmsg_len=40, nlmsg_type=0x14 /* NLMSG_??? */, '
    'nlmsg_flags=NLM_F_REQUEST|NLM_F_ACK|0x600, nlmsg_seq=1796643621, nlmsg_pid=0}, '
    '"\\x02\\x18\\x00\\x00\\x02\\x00\\x00\\x00\\x08\\x00\\x02\\x00\\x0a\\x09\\x00\\x02\\x08'
    '\\x00\\x01\\x00\\x0a\\x09\\x00\\x02"], iov_len=40}], msg_iovlen=1, msg_controllen=0, '
    'msg_flags=0}, 0) = 40'
)
LO_MARKED_IN_A_NAMESPACE = (
    '25    sendto(8, [{nlmsg_len=56, nlmsg_type=0x10 /* NLMSG_??? */, '
    'nlmsg_flags=NLM_F_REQUEST|NLM_F_ACK, nlmsg_seq=1, nlmsg_pid=0}, "\\x00\\x00\\x00\\x00\\x00'
    '\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x07\\x00\\x03\\x00\\x6c\\x6f\\x00'
    '\\x00"], 56, 0, NULL, 0) = 56'
)
PROBE_IN_A_NAMESPACE = (
    '25    sendto(8, [{nlmsg_len=32, nlmsg_type=0x10 /* NLMSG_??? */, '
    'nlmsg_flags=NLM_F_REQUEST|NLM_F_ACK, nlmsg_seq=0, nlmsg_pid=0}, "\\x00\\x00\\x00\\x00\\x00'
    '\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00"], 32, 0, NULL, 0) = 32'
)
ROUTES_DUMPED_IN_A_NAMESPACE = (
    '26    sendto(11, [{nlmsg_len=28, nlmsg_type=0x1a /* NLMSG_??? */, '
    'nlmsg_flags=NLM_F_REQUEST|0x300, nlmsg_seq=4, nlmsg_pid=0}, "\\x00\\x00\\x00\\x00\\xfe'
    '\\x00\\x00\\x01\\x00\\x00\\x00\\x00"], 28, 0, NULL, 0) = 28'
)
NFT_BATCH = (
    '24    sendmsg(3, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, '
    'msg_namelen=12, msg_iov=[{iov_base=[[{nlmsg_len=20, nlmsg_type=NFNL_MSG_BATCH_BEGIN, '
    'nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=0, nlmsg_pid=0}, {nfgen_family=AF_UNSPEC, '
    'version=NFNETLINK_V0, res_id=htons(10)}], [{nlmsg_len=36, '
    'nlmsg_type=NFNL_SUBSYS_NFTABLES<<8|NFT_MSG_NEWTABLE, nlmsg_flags=NLM_F_REQUEST, '
    'nlmsg_seq=1, nlmsg_pid=0}, {nfgen_family=AF_UNIX, version=NFNETLINK_V0, '
    'res_id=htons(0)}], [{nlmsg_len=20, nlmsg_type=NFNL_MSG_BATCH_END, '
    'nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=2, nlmsg_pid=0}, {nfgen_family=AF_UNSPEC, '
    'version=NFNETLINK_V0, res_id=htons(10)}]], iov_len=76}], msg_iovlen=1, '
    'msg_controllen=0, msg_flags=0}, 0) = 76'
)
NFT_BATCH_IN_A_NAMESPACE = (
    '27    sendmsg(3, {msg_iov=[{iov_base=[[{nlmsg_len=20, nlmsg_type=0x10 /* NLMSG_??? */, '
    'nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=0, nlmsg_pid=0}, "\\x00\\x00\\x00\\x0a"], '
    '[{nlmsg_len=36, nlmsg_type=0xa06 /* NLMSG_??? */, nlmsg_flags=NLM_F_REQUEST, '
    'nlmsg_seq=1, nlmsg_pid=0}, "\\x01\\x00\\x00\\x00"], [{nlmsg_len=20, '
    'nlmsg_type=0x11 /* NLMSG_??? */, nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=2, nlmsg_pid=0}, '
    '"\\x00\\x00\\x00\\x0a"]], iov_len=76}]}, 0) = 76'
)
NOT_NETLINK = "30    +++ exited with 0 +++"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([VETH_CREATED], {"writes": 1, "by_type": {"RTM_NEWLINK": 1}, "reads": 0}),
        ([PROBE, PROBE_IN_A_NAMESPACE], {"writes": 0, "probes": 2}),
        ([PROBE.replace("ifi_index=0", "ifi_index=7")], {"writes": 1, "probes": 0}),
        ([LINK_UP], {"writes": 1, "by_type": {"RTM_NEWLINK": 1}, "probes": 0}),
        ([ADDRESS_IN_A_NAMESPACE, LO_MARKED_IN_A_NAMESPACE],
         {"writes": 2, "by_type": {"RTM_NEWADDR": 1, "RTM_NEWLINK": 1}}),
        ([ROUTES_DUMPED_IN_A_NAMESPACE, NOT_NETLINK], {"writes": 0, "reads": 1, "other": 0}),
        ([NFT_BATCH], {"writes": 1, "by_type": {"NFT_MSG_NEWTABLE": 1}, "other": 2}),
        ([NFT_BATCH_IN_A_NAMESPACE],
         {"writes": 1, "by_type": {"NFT_MSG_NEWRULE": 1}, "other": 2}),
    ],
    ids=["decoded", "probes", "by-index", "by-name", "undecoded", "reads", "nft-batch",
         "undecoded-batch"],
)  # fmt: skip
def test_messages_are_counted_by_kind(lines: list[str], expected: dict[str, Any]) -> None:
    counted = add_writes.messages_of("\n".join(lines))
    assert {key: counted[key] for key in expected} == expected
