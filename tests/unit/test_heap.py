"""The collector's policy (netplan/agent/heap.py), in a process of its own."""

from __future__ import annotations

import subprocess
import sys

from netplan.agent.heap import YOUNG_LIMIT

PROGRAM = """
import atexit, gc
atexit.register(lambda: print("frozen at exit", gc.get_freeze_count()))
from netplan.agent import heap
heap.keep_until_exit()
print("threshold", *gc.get_threshold())
print("frozen before exit", gc.get_freeze_count())
"""


def test_collections_are_rare_and_the_heap_is_frozen_at_exit() -> None:
    out = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    defaults = gc_defaults()
    assert out[0] == f"threshold {YOUNG_LIMIT} {defaults[1]} {defaults[2]}"
    before = int(out[1].removeprefix("frozen before exit "))  # Python 3.12 starts with ~375 frozen
    frozen = int(out[2].removeprefix("frozen at exit "))
    assert frozen > before + 1000


def gc_defaults() -> list[int]:
    out = subprocess.run([sys.executable, "-c", "import gc; print(*gc.get_threshold())"],
                         capture_output=True, text=True, check=True).stdout
    return [int(n) for n in out.split()]
