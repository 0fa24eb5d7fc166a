"""Inputs generated on the fly: huge, binary, hostile. Each gives exactly one clear problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from netplan.errors import Problem, TopologyError
from netplan.topology import document, loader, source
from netplan.topology.loader import load_topology

Write = Callable[[Path], Path]


def text(content: str) -> Write:
    def write(folder: Path) -> Path:
        path = folder / "topo.yaml"
        path.write_text(content, encoding="utf-8")
        return path

    return write


def raw(content: bytes) -> Write:
    def write(folder: Path) -> Path:
        path = folder / "topo.yaml"
        path.write_bytes(content)
        return path

    return write


def sized(size: int) -> Write:
    def write(folder: Path) -> Path:
        path = folder / "topo.yaml"
        with path.open("wb") as handle:
            handle.write(b"name: big\n# " + b"x" * 1000 + b"\n")
            handle.truncate(size)
        return path

    return write


def billion_laughs() -> str:
    lines = ["name: lol", 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


CASES = [
    pytest.param(sized(50 * 2**20), (0, 0), "larger than 4 MiB", id="50-MB-file"),
    pytest.param(sized(source.MAX_BYTES + 1), (0, 0), "larger than 4 MiB", id="just-over-limit"),
    pytest.param(
        lambda _: Path("/dev/zero"), (0, 0), "larger than 4 MiB", id="endless-stream-dev-zero"
    ),
    pytest.param(lambda folder: folder, (0, 0), "is a directory", id="directory"),
    pytest.param(lambda folder: folder / "nope.yaml", (0, 0), "no such file", id="missing"),
    pytest.param(text(""), (0, 0), "holds no topology", id="empty"),
    pytest.param(text("\n  \n\n"), (0, 0), "holds no topology", id="blank-lines"),
    pytest.param(
        raw(b"name: x\nnetworks:\n  caf\xc3\xa9-\xff: {}\n"),
        (3, 8),
        "not UTF-8: byte 0xff",
        id="non-utf8",
    ),
    pytest.param(raw("name: x\n".encode("utf-16")), (1, 1), "not UTF-8", id="utf16"),
    pytest.param(text("name: x\nhosts:\n  h\x00: {}\n"), (3, 4), "U+0000", id="nul-byte"),
    pytest.param(text("name: \x1b[31mred\n"), (1, 7), "U+001B", id="escape-sequence"),
    pytest.param(text(billion_laughs()), (7, 16), "aliases expand the file", id="alias-bomb"),
    pytest.param(
        text("name: deep\nx: " + "[" * 500 + "]" * 500 + "\n"),
        (2, 67),
        "deeper than 64 levels",
        id="deep-flow-500",
    ),
    pytest.param(
        text("name: deep\nx:\n" + "- " * 10_000 + "leaf\n"),
        (3, 127),
        "deeper than 64 levels",
        id="deep-block-10000",
    ),
    pytest.param(
        text("name: deep\nx: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n"),
        (2, 256),
        "deeper than 64 levels",
        id="deep-mappings-10000",
    ),
]


@pytest.mark.parametrize(("write", "position", "message"), CASES)
def test_refused_with_one_clear_problem(
    tmp_path: Path, write: Write, position: tuple[int, int], message: str
) -> None:
    path = write(tmp_path)
    with pytest.raises(TopologyError) as raised:
        load_topology(path)
    [problem] = raised.value.problems
    assert problem.file == str(path)
    assert (problem.line, problem.column) == position
    assert message in problem.message
    assert problem.hint


def test_deeper_than_yamls_own_limit(tmp_path: Path) -> None:
    """10,000 nested flow sequences: PyYAML 6.0.4 and later refuse them while scanning,
    at its own limit of 1,000 levels, before netplan's builder sees level 65; earlier
    versions leave it to netplan. Either way, one problem on their line, saying why."""
    path = text("name: deep\nx: " + "[" * 10_000 + "]" * 10_000 + "\n")(tmp_path)
    with pytest.raises(TopologyError) as raised:
        load_topology(path)
    [problem] = raised.value.problems
    assert (problem.file, problem.line) == (str(path), 2)
    assert ("deeper than 64 levels" in problem.message
            or "exceeded maximum nesting depth" in problem.message)


def test_a_utf8_bom_is_not_content(tmp_path: Path) -> None:
    path = raw(b"\xef\xbb\xbfname: bom\nextra: 1\n")(tmp_path)
    with pytest.raises(TopologyError) as raised:
        load_topology(path)
    [problem] = raised.value.problems
    assert (problem.line, problem.column, problem.message) == (2, 1, "unknown field 'extra'")


def test_size_limit_is_inclusive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = "name: edge\n"
    monkeypatch.setattr(source, "MAX_BYTES", len(content))
    assert load_topology(text(content)(tmp_path)).name == "edge"
    with pytest.raises(TopologyError, match="larger than"):
        load_topology(text(content + "\n")(tmp_path))


def test_too_many_values_without_aliases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(document, "MAX_NODES", 100)
    path = text("name: many\nx: [" + ", ".join(["1"] * 200) + "]\n")(tmp_path)
    with pytest.raises(TopologyError) as raised:
        load_topology(path)
    [problem] = raised.value.problems
    assert "more than 100 values" in problem.message
    assert "alias" not in problem.render()


FALLBACK_CASES = [
    pytest.param("name: x\nfoo: 1\n", (2, 1), "unknown field 'foo'", id="unknown-field"),
    pytest.param("name: x\nname: y\n", (2, 1), "duplicate key 'name'", id="duplicate"),
    pytest.param("name: !Ref x\n", (1, 7), "unknown tag '!Ref'", id="tag"),
    pytest.param("name: [x\n", (2, 1), "YAML syntax error", id="syntax"),
    pytest.param(billion_laughs(), (7, 16), "aliases expand the file", id="alias-bomb"),
]


@pytest.mark.parametrize(("content", "position", "message"), FALLBACK_CASES)
def test_pure_python_parser_gives_the_same_positions(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: str,
    position: tuple[int, int],
    message: str,
) -> None:
    """Where libyaml is missing, yaml.SafeLoader takes over with the same results."""
    monkeypatch.setattr(document, "_LOADER", yaml.SafeLoader)
    with pytest.raises(TopologyError) as raised:
        load_topology(text(content)(tmp_path))
    [problem] = raised.value.problems
    assert ((problem.line, problem.column), message in problem.message) == (position, True)


def test_problem_renders_without_position_for_whole_file_problems(tmp_path: Path) -> None:
    with pytest.raises(TopologyError) as raised:
        load_topology(tmp_path / "missing.yaml")
    assert raised.value.lines() == [f"{tmp_path}/missing.yaml: no such file (hint: check the path)"]
    assert isinstance(raised.value.problems[0], Problem)


def test_a_flood_of_problems_is_cut_at_a_hundred_lines(tmp_path: Path) -> None:
    path = text("name: flood\nhosts:\n" + "  a: {}\n" * 10_000)(tmp_path)
    with pytest.raises(TopologyError) as raised:
        load_topology(path)
    lines = raised.value.lines()
    assert len(lines) == loader.MAX_PROBLEMS + 1
    assert lines[0].startswith(f"{path}:4:3: hosts.a: duplicate key 'a' (first at line 3)")
    assert lines[-1] == f"{path}: and 9,899 more problems (hint: fix the ones above first)"


@pytest.mark.parametrize(
    "key", ["a\nb", "\x1b[2J", "\u202eevil", "a\u2028b", "\x00", "\x85"], ids=repr
)
def test_a_key_written_with_escapes_stays_on_one_printable_line(tmp_path: Path, key: str) -> None:
    """Double-quoted YAML can spell any character; the problem shows it escaped."""
    path = text(f"name: x\n{json.dumps(key)}: 1\n")(tmp_path)
    with pytest.raises(TopologyError) as raised:
        load_topology(path)
    [line] = raised.value.lines()
    assert line.isprintable() and line.startswith(f"{path}:2:1: ")
    assert repr(key)[1:-1] in line
