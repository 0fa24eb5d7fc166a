"""Two files, one topology name: apply and destroy of one refuse, before changing
anything, a topology last applied from the other while that file still declares the
name (`--replace` takes it over); a moved, renamed or re-named file does not hold it.
A saved plan is refused the same way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from tests.e2e.hostview import Run, assert_unchanged, netns_names, snapshot

HINT = "(hint: pass --replace to take the topology over from {other}, or give {this} another " \
    "`name:`)\n"  # fmt: skip


def topology(path: Path, name: str, containers: list[str]) -> Path:
    """`containers` (sn-web, sn-db) on one bridge of names no other e2e test uses."""
    path.write_text(yaml.safe_dump({
        "name": name,
        "networks": {"front": {"bridge": "br-samename", "subnet": "10.79.0.0/24"}},
        "containers": {f"sn-{c}": {"networks": ["front"]} for c in containers},
    }))  # fmt: skip
    return path


def refusal(run: Run, *args: str | Path) -> str:
    """The one stderr line of a refused command (exit 1)."""
    result = run(*args)
    assert result.returncode == 1, result
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_another_file_of_the_same_name_is_refused_until_replace(tx: Path, run: Run) -> None:
    a = topology(tx / "a.yaml", "samename", ["web", "db"])
    b = topology(tx / "b.yaml", "samename", ["web"])
    run("apply", a, "--yes", check=True)
    before = snapshot()
    for verb, does in (("apply", "replace"), ("destroy", "remove")):
        line = refusal(run, verb, b, "--yes")
        assert line == (f"error: host local: topology 'samename' was last applied from {a}, "
                        f"which still declares it; {verb} {b} would {does} it; nothing was "
                        f"changed " + HINT.format(other=a, this=b))  # fmt: skip
    json_answer = run("apply", b, "--yes", "--json")
    assert json_answer.returncode == 1
    assert "--replace" in json.loads(json_answer.stdout)["errors"][0]["hint"]
    saved = tx / "plan.json"
    run("plan", b, "--out", saved, check=True)
    assert "last applied from" in refusal(run, "apply", saved, "--yes")
    assert_unchanged(before, snapshot())
    assert netns_names() >= {"sn-web", "sn-db"}
    assert run("apply", saved, "--yes", "--replace").returncode == 0
    assert "sn-db" not in netns_names() and "sn-web" in netns_names()
    assert "last applied from" in refusal(run, "apply", a, "--yes")  # b holds it now
    run("destroy", b, "--yes", check=True)
    assert run("plan", b, "--destroy", "--detailed-exitcode").returncode == 0


def test_a_moved_or_renamed_file_does_not_hold_the_topology(tx: Path, run: Run) -> None:
    a = topology(tx / "a.yaml", "samename", ["web", "db"])
    run("apply", a, "--yes", check=True)
    moved = tx / "moved.yaml"
    shutil.move(a, moved)
    run("apply", moved, "--yes", check=True)  # a.yaml is gone: moved.yaml goes on
    assert netns_names() >= {"sn-web", "sn-db"}
    copy = topology(tx / "copy.yaml", "samename", ["web"])
    assert "last applied from" in refusal(run, "apply", copy, "--yes")
    topology(moved, "renamed", ["web"])  # moved.yaml now declares another name
    run("apply", copy, "--yes", check=True)
    assert "sn-db" not in netns_names()
    run("destroy", copy, "--yes", check=True)
    assert run("plan", copy, "--destroy", "--detailed-exitcode").returncode == 0


def test_the_same_file_by_another_path_is_the_same_file(tx: Path, run: Run) -> None:
    a = topology(tx / "a.yaml", "samename", ["web"])
    run("apply", a, "--yes", check=True)
    link = tx / "link.yaml"
    link.symlink_to(a)
    run("apply", link, "--yes", check=True)
    run("destroy", link, "--yes", check=True)
    assert run("plan", a, "--destroy", "--detailed-exitcode").returncode == 0
