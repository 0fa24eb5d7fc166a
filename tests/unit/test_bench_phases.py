"""bench/phases.py names netplan's functions by module and attribute: each must still be
there, or the tool stops at its first run after a rename."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
phases = importlib.import_module("phases")


@pytest.mark.parametrize(("module", "attribute", "label"), [*phases.PHASES, *phases.DETAIL])
def test_every_timed_function_exists(module: str, attribute: str, label: str) -> None:
    owner: object = importlib.import_module(module)
    for part in attribute.split("."):
        owner = getattr(owner, part)
    assert callable(owner), label
