"""apply and destroy refuse a topology that another file still declares
(netplan/gate/other_file.py): the decision, table-driven, then on real files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from netplan.gate.other_file import (
    OtherFile,
    OtherFileError,
    declared_name,
    other_files,
    refuse_other_files,
)
from netplan.gate.record import Source

THIS = Source("b.yaml", "sha256:b", "/srv/b.yaml")
A = Source("a.yaml", "sha256:a", "/srv/a.yaml")
C = Source("c.yaml", "sha256:c", "/srv/c.yaml")
OLD_B = Source("b.yaml", "sha256:old", "/srv/b.yaml")
DECLARED = {"/srv/a.yaml": "demo", "/srv/b.yaml": "demo", "/srv/c.yaml": "other"}
"""The files on the fake file system and the name each declares (a file not here is gone)."""

CASES = {
    "never applied": ({"h1": None}, []),
    "applied from this file": ({"h1": THIS}, []),
    "applied from this file, since edited": ({"h1": OLD_B}, []),
    "another file that still declares the name": ({"h1": A}, [OtherFile(A, ("h1",))]),
    "another file, now another name": ({"h1": C}, []),
    "another file, moved or deleted": ({"h1": Source("gone.yaml", "sha256:g", "/srv/gone.yaml")},
                                       []),
    "per host: only the hosts the other file holds": (
        {"h1": A, "h2": THIS, "h3": None, "h4": A}, [OtherFile(A, ("h1", "h4"))]),
    "a record made before netplan kept the absolute path": (
        {"h1": Source("/srv/a.yaml", "sha256:a")}, [OtherFile(Source("/srv/a.yaml", "sha256:a"),
                                                             ("h1",))]),
}


@pytest.mark.parametrize(("applied_from", "expected"), list(CASES.values()), ids=list(CASES))
def test_other_files(applied_from: dict[str, Source | None], expected: list[OtherFile]) -> None:
    found = other_files("demo", THIS, applied_from, DECLARED.get, lambda a, b: a == b)
    assert found == expected


def test_the_refusal_is_one_line_naming_both_files_with_a_hint() -> None:
    error = OtherFileError("demo", THIS, [OtherFile(A, ("h1", "h4"))], "destroy")
    (line,) = error.lines()
    assert line == (
        "host h1, h4: topology 'demo' was last applied from /srv/a.yaml, which still declares "
        "it; destroy b.yaml would remove it; nothing was changed (hint: pass --replace to take "
        "the topology over from a.yaml, or give b.yaml another `name:`)"
    )


def write(path: Path, name: str) -> Source:
    path.write_text(f"name: {name}\ncontainers: {{web: {{}}}}\n")
    return Source.of(path)


def test_on_files_a_moved_or_renamed_file_no_longer_holds_the_topology(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = write(tmp_path / "a.yaml", "demo"), write(tmp_path / "b.yaml", "demo")
    with pytest.raises(OtherFileError, match=r"last applied from .*a\.yaml"):
        refuse_other_files("demo", b, {"local": a}, "apply")
    monkeypatch.chdir(tmp_path.parent)  # the same file by another path: it is this file
    refuse_other_files("demo", Source.of(Path(tmp_path.name) / "a.yaml"), {"local": a}, "apply")
    os.link(tmp_path / "a.yaml", tmp_path / "hard.yaml")
    refuse_other_files("demo", Source.of(tmp_path / "hard.yaml"), {"local": a}, "apply")
    write(tmp_path / "a.yaml", "renamed")  # hard.yaml too: it is the same file
    refuse_other_files("demo", b, {"local": a}, "apply")
    (tmp_path / "a.yaml").unlink()
    refuse_other_files("demo", b, {"local": a}, "apply")


@pytest.mark.parametrize("text", ["name: demo\nnetworks: [", "- not a mapping\n", "\x00"])
def test_a_file_that_is_not_a_topology_does_not_hold_it(tmp_path: Path, text: str) -> None:
    (tmp_path / "a.yaml").write_text(text)
    a = Source("a.yaml", "sha256:a", str(tmp_path / "a.yaml"))
    b = write(tmp_path / "b.yaml", "demo")
    refuse_other_files("demo", b, {"local": a}, "apply")


NAMES = {
    "plain": ("name: demo\ncontainers: {web: {}}\n", "demo"),
    "quoted number": ('name: "123"\n', "123"),
    "a number is no name": ("name: 123\n", None),
    "a boolean is no name": ("name: yes\n", None),
    "no name": ("containers: {web: {}}\n", None),
    "the last of two names, as YAML keeps it": ("name: a\nname: b\n", "b"),
    "named by an alias": ("x: &n demo\nname: *n\n", "demo"),
    "named by a merge key": ("base: &b {name: demo}\n<<: *b\n", "demo"),
    "errors below the top level": ("name: demo\ncontainers: {web: {mtu: x}}\nnope: 1\n", "demo"),
    "a syntax error further down": ("name: demo\nnetworks: [\n", None),
    "two documents": ("name: demo\n---\nname: other\n", None),
    "an unknown tag": ("name: demo\nx: !python/object {}\n", None),
    "an unknown alias": ("name: demo\nx: *nowhere\n", None),
    "a list": ("- name: demo\n", None),
    "empty": ("", None),
    "only comments": ("# name: demo\n", None),
}


@pytest.mark.parametrize(("text", "expected"), list(NAMES.values()), ids=list(NAMES))
def test_declared_name_reads_the_top_level_name_as_safe_load_does(
    tmp_path: Path, text: str, expected: str | None
) -> None:
    """libyaml's reading gives the answers the pure-Python `yaml.safe_load` gave."""
    path = tmp_path / "a.yaml"
    path.write_text(text)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    by_safe_load = data.get("name") if isinstance(data, dict) else None
    assert declared_name(str(path)) == expected
    assert expected == (by_safe_load if isinstance(by_safe_load, str) else None)


def test_declared_name_of_a_file_that_is_gone_is_none(tmp_path: Path) -> None:
    assert declared_name(str(tmp_path / "gone.yaml")) is None
