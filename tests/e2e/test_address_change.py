"""Editing a container's address, as a user does: a new subnet or a static `ipv4` applies,
keeps the default route, and a failed apply of it puts the container back as it was.

Checked with `ip -j`, ping from inside the container, and a second plan that is empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from netplan.agent.resources import Veth
from tests.e2e.hostview import Run, assert_unchanged, ip_json, ping, settled_snapshot, sh
from tests.e2e.test_transactions import PROMPT, Interactive, planned_steps


def topology(path: Path, subnet: str = "10.10.0.0/24", cache: dict[str, Any] | None = None,
             others: tuple[str, ...] = ()) -> Path:
    """`cache` on network `front` (its attachment `cache`, e.g. a static ipv4), and
    `others` on it too."""
    containers = {"cache": {"networks": {"front": cache or {}}},
                  **{name: {"networks": ["front"]} for name in others}}  # fmt: skip
    path.write_text(yaml.safe_dump({
        "name": "readdress",
        "networks": {"front": {"bridge": "br-readdr", "subnet": subnet}},
        "containers": containers,
    }))  # fmt: skip
    return path


def inside_cache() -> dict[str, Any]:
    return {"addr": ip_json("-n", "cache", "addr"), "route": ip_json("-n", "cache", "route")}


def default_routes() -> list[tuple[str, str, str]]:
    return [(r["gateway"], r["dev"], r["protocol"])
            for r in ip_json("-n", "cache", "route") if r["dst"] == "default"]  # fmt: skip


@pytest.fixture
def edits(tmp_path: Path, run: Run) -> Iterator[Path]:
    """A directory for this test's topology files; what they made is destroyed after."""
    yield tmp_path
    for path in tmp_path.glob("*.yaml"):
        run("destroy", path, "--yes")


@pytest.mark.parametrize(("subnet", "cache", "gateway"), [
    ("10.12.0.0/24", {}, "10.12.0.1"),
    ("10.10.0.0/24", {"ipv4": "10.10.0.50"}, "10.10.0.1"),
], ids=["subnet changed", "static ipv4 given"])  # fmt: skip
def test_an_address_edit_applies_and_keeps_the_default_route(
        run: Run, edits: Path, subnet: str, cache: dict[str, Any], gateway: str) -> None:
    first = topology(edits / "first.yaml")
    run("apply", first, "--yes", check=True)
    edited = topology(edits / "first.yaml", subnet, cache)
    result = run("apply", edited, "--yes")
    assert result.returncode == 0, result.stderr
    assert "-/+ route default in cache" in result.stdout
    assert default_routes() == [(gateway, "eth0", "77")]
    assert ping("cache", gateway)
    assert run("plan", edited, "--detailed-exitcode").returncode == 0
    assert run("check", edited).returncode == 0


def test_a_failed_apply_with_an_address_change_restores_the_container(
        run: Run, edits: Path) -> None:
    """`cache` gets a static ipv4 and a new container `web` is added, whose veth someone
    else takes the name of while the apply waits: the apply fails after the address
    steps, and the rollback gives `cache` back exactly its addresses and routes."""
    first = topology(edits / "first.yaml")
    run("apply", first, "--yes", check=True)
    before, inside = settled_snapshot(), inside_cache()
    second = topology(edits / "second.yaml", cache={"ipv4": "10.10.0.50"}, others=("web",))
    planned = planned_steps(second)
    steps = [f"{s.op} {s.resource.key}" for s in planned]
    web = next(s.resource for s in planned
               if isinstance(s.resource, Veth) and s.resource.netns == "web")  # fmt: skip
    assert steps.index("delete addr:cache/eth0/10.10.0.2/24") < steps.index("create link:web/eth0")
    apply = Interactive("apply", second, "--replace")  # first.yaml still declares its name
    apply.wait_for(PROMPT)
    sh(f"ip link add {web.peer} type bridge")
    apply.answer("y")
    result = apply.finish()
    assert result.returncode == 1, result.stdout
    lines = result.stderr.splitlines()
    assert lines[0] == "error: host local: cannot create veth web/eth0: already exists"
    assert re.match(r"error: host local: rolled back (\d+) of \1 steps in ", lines[1])
    assert lines[1].endswith(": the host is as it was before the apply")
    sh(f"ip link del {web.peer}")
    assert inside_cache() == inside
    assert default_routes() == [("10.10.0.1", "eth0", "77")]
    assert ping("cache", "10.10.0.1")
    assert_unchanged(before, settled_snapshot())
    second.unlink()
    assert run("plan", first, "--detailed-exitcode").returncode == 0
