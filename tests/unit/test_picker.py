"""rtnl.Picker: a few attributes out of nests the kernel writes alike, read at the offsets
of the last nest as long that it walked when the headers are the same, else walked;
always what a walk of that nest finds (the first attribute of each wanted type)."""

from __future__ import annotations

import pytest

from netplan.agent import rtnl
from netplan.agent.nlmsg import nla

WANTED = frozenset({1, 9, 33})


def nest(state: int = 3, flood: int = 1, isolated: int = 0, before: bytes = b"") -> bytes:
    """Like a bridge port's: the state first, other attributes, the isolation last."""
    return (before + nla(1, bytes([state])) + nla(2, b"\x20\x00") + nla(9, bytes([flood]))
            + nla(14, bytes(8)) + nla(33, bytes([isolated])) + nla(34, b"\x00\x00\x00\x00"))


def walked(data: bytes) -> dict[int, bytes]:
    """What a plain walk finds: the reference."""
    found = {}
    for kind, value in rtnl.attributes(data, 0, len(data)).items():
        if kind in WANTED:
            found[kind] = value
    return found


NESTS = [
    ("the same layout, other values", [nest(), nest(state=0, isolated=1), nest(flood=0)]),
    ("another attribute first: walked, then remembered",
     [nest(), nest(state=1, before=nla(40, b"\x01")), nest(state=2, before=nla(40, b"\x00")),
      nest(state=0)]),
    ("a payload of another length", [nest(), nest().replace(nla(2, b"\x20\x00"),
                                                            nla(2, b"\x20\x00\x00\x00\x00"))]),
    ("a wanted type missing",
     [nest(), nla(1, b"\x00") + nla(2, b"\x20\x00"), nest(state=4),
      nla(1, b"\x00") + nla(2, b"\x20\x00") + nla(9, b"\x00")]),
    ("a nest that ends early", [nest(), nest()[:24], nest(isolated=1), nest()[:24]]),
    ("a wanted type twice: the first counts", [nest(), nla(33, b"\x01") + nest(), nest()]),
    ("as long, other headers", [nest(), nest().replace(nla(2, b"\x20\x00"), nla(3, b"\x20\x00")),
                                nest(state=2)]),
]


@pytest.mark.parametrize("nests", [case[1] for case in NESTS], ids=[case[0] for case in NESTS])
def test_picks_what_a_walk_finds(nests: list[bytes]) -> None:
    picker = rtnl.Picker(WANTED)
    for data in nests:
        assert picker.pick(data) == walked(data)


def test_a_malformed_nest_gives_what_precedes_the_damage() -> None:
    picker = rtnl.Picker(WANTED)
    assert picker.pick(nla(1, b"\x03") + b"\x40\x00\x09\x00\x01") == {1: b"\x03"}
    assert picker.pick(nest(state=0)) == walked(nest(state=0))


def test_a_list_after_a_header_is_read_from_its_offset() -> None:
    picker = rtnl.Picker(WANTED)
    for header in (b"\x07" * 16, b"\x07" * 16, b"\x09" * 8):
        for data in (nest(), nest(state=1, isolated=1)):
            assert picker.pick(header + data, len(header)) == walked(data)


def test_lists_of_several_lengths_are_each_walked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dump alternates links of a few layouts (lo, eth0 in each namespace)."""
    picker = rtnl.Picker(WANTED)
    walks = []
    walk = picker._walk
    monkeypatch.setattr(picker, "_walk", lambda data, offset: walks.append(len(data)) or
                        walk(data, offset))
    short = nla(1, b"\x00") + nla(2, b"\x20\x00")
    for state in range(4):
        assert picker.pick(nest(state=state)) == walked(nest(state=state))
        assert picker.pick(short) == walked(short)
    assert walks == [len(nest()), len(short)]


def test_past_the_most_layouts_it_starts_again() -> None:
    picker = rtnl.Picker(WANTED)
    for size in range(rtnl._LAYOUTS * 2):
        data = nla(40, bytes(size)) + nest(state=size % 4)
        assert picker.pick(data) == walked(data)
        assert len(picker._layouts) <= rtnl._LAYOUTS
    assert picker.pick(nest()) == walked(nest())
