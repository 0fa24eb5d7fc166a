"""Bad input through the CLI: exit 1, one clear line per problem, no traceback, host untouched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.hostview import REPO, Run, assert_unchanged, snapshot

BAD = sorted((REPO / "tests" / "fixtures" / "bad").glob("*.yaml"))


def expected_lines(path: Path) -> list[str]:
    return [
        line.removeprefix("# expect: ")
        for line in path.read_text(errors="replace").splitlines()
        if line.startswith("# expect: ")
    ]


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_topology_is_refused_before_anything_changes(path: Path, run: Run) -> None:
    before = snapshot()
    result = run("apply", path, "--yes")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith(f"error: {path}") for line in lines)
    for expected in expected_lines(path):
        position, _, text = expected.partition(" ")
        where = "" if position == "-" else f":{position}: "  # "-": a problem of the whole file
        assert any(where in line and text in line for line in lines), expected
    assert_unchanged(before, snapshot())


def big_file(tmp: Path) -> Path:
    path = tmp / "big.yaml"
    with path.open("wb") as out:
        out.write(b"name: big\ncontainers:\n")
        chunk = b"".join(b"  c%07d: {}\n" % i for i in range(10_000))
        while out.tell() < 50 * 1024 * 1024:
            out.write(chunk)
    return path


def written(name: str, content: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / name).write_bytes(content)
        return tmp / name

    return make


GENERATED: dict[str, tuple[Callable[[Path], Path], str]] = {
    "directory": (lambda tmp: tmp, "is a directory"),
    "missing": (lambda tmp: tmp / "nope.yaml", "no such file"),
    "empty": (written("empty.yaml", b""), "empty"),
    "non-utf8": (written("latin1.yaml", b"name: caf\xe9\n"), "UTF-8"),
    "50MB": (big_file, "MiB"),
}


@pytest.mark.parametrize("case", sorted(GENERATED))
def test_unreadable_input_is_one_clear_line(case: str, run: Run, tmp_path: Path) -> None:
    make, phrase = GENERATED[case]
    path = make(tmp_path)
    result = run("apply", path, "--yes")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and phrase.lower() in lines[0].lower(), lines
