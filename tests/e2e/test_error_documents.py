"""A command asked for JSON, JUnit or GitHub annotations that fails before it has a result
still prints a document of that format on stdout: the real CLI on a file with typos, a
missing file and a lab that is not up. Exit 1 and the `error:` lines on stderr as ever."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from junitparser import Error, JUnitXml

from tests.e2e.hostview import REPO, Run, assert_unchanged, snapshot

SCHEMA = json.loads((REPO / "docs" / "check.schema.json").read_text())
TYPOS = """\
name: typos
networks:
  front: {subnet: 10.98.0.0/24}
containers:
  web: {networks: [front], colour: blue}
  db:
    networks: [front]
    mtu: 1400
"""
PLACES = [(5, 28, "containers.web.colour"), (8, 5, "containers.db.mtu")]
"""Where each typo is: line, column, field path."""

JSON_COMMANDS = [
    ("validate", "--json"), ("plan", "--json"), ("apply", "--json"), ("destroy", "--json"),
    ("show", "--json"), ("check", "--json"), ("verify", "--format", "json"),
]  # fmt: skip
"""Each command's way of asking for JSON."""
VERSIONS = {"check": 2}
"""Each command's JSON's format_version, where not 1."""


@pytest.fixture
def typos(tmp_path: Path) -> Path:
    path = tmp_path / "typos.yaml"
    path.write_text(TYPOS)
    return path


def stderr_lines(path: Path) -> list[str]:
    """What the command says on stderr, whatever its format: one line per problem."""
    return [f"error: {path}:{line}:{column}: {field}: " for line, column, field in PLACES]


def assert_plain_errors(result: subprocess.CompletedProcess[str], path: Path) -> None:
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == len(PLACES)
    assert all(line.startswith(head) for line, head in zip(lines, stderr_lines(path), strict=True))


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=[a[0] for a in JSON_COMMANDS])
def test_json_names_every_problem(args: tuple[str, ...], typos: Path, run: Run) -> None:
    before = snapshot()
    command, *options = args
    yes = ["--yes"] if command in ("apply", "destroy") else []
    result = run(command, typos, *options, *yes)
    assert_plain_errors(result, typos)
    data = json.loads(result.stdout)
    if command == "check":
        jsonschema.validate(data, SCHEMA)
    assert data["format_version"] == VERSIONS.get(command, 1)
    assert (data["command"], data["file"], data["exit_code"]) == (command, str(typos), 1)
    places = [(e["line"], e["column"], e["path"]) for e in data["errors"]]
    assert places == PLACES and all(e["file"] == str(typos) for e in data["errors"])
    assert [e["message"] for e in data["errors"]] == ["unknown field 'colour'",
                                                      "unknown field 'mtu'"]  # fmt: skip
    assert_unchanged(before, snapshot())


@pytest.mark.parametrize("command", ["check", "verify"])
def test_junit_has_a_case_in_error_per_problem(command: str, typos: Path, run: Run) -> None:
    result = run(command, typos, "--format", "junit")
    assert_plain_errors(result, typos)
    [suite] = list(JUnitXml.fromstring(result.stdout))
    assert (suite.tests, suite.errors, suite.failures) == (2, 2, 0)
    for case, (line, _, field) in zip(suite, PLACES, strict=True):
        assert case._elem.get("file") == str(typos) and case._elem.get("line") == str(line)
        [error] = [r for r in case.result if isinstance(r, Error)]
        assert field in error.message and error.type == f"{command} failed"


@pytest.mark.parametrize("command", ["check", "verify"])
def test_github_annotates_each_problem(command: str, typos: Path, run: Run) -> None:
    result = run(command, typos, "--format", "github")
    assert_plain_errors(result, typos)
    lines = result.stdout.splitlines()
    assert len(lines) == len(PLACES)
    for text, (line, column, field) in zip(lines, PLACES, strict=True):
        head = f"::error file={typos},line={line},col={column},title=netplan {command} failed::"
        assert text.startswith(f"{head}{field}: unknown field"), text


def test_a_missing_file_is_a_junit_report(tmp_path: Path, run: Run) -> None:
    missing = tmp_path / "missing.yaml"
    result = run("check", missing, "--format", "junit")
    assert (result.returncode, result.stderr) == (
        1, f"error: {missing}: no such file (hint: check the path)\n")
    [suite] = list(JUnitXml.fromstring(result.stdout))
    [case] = list(suite)
    [error] = [r for r in case.result if isinstance(r, Error)]
    assert error.message == f"{missing}: no such file (hint: check the path)"


@pytest.mark.parametrize("fmt", ["json", "github"])
def test_hosts_that_cannot_be_had_are_reported_in_the_format(fmt: str, tmp_path: Path) -> None:
    """The lab provider with no lab up: a one-line error, before any host is reached."""
    result = subprocess.run(
        [sys.executable, "-m", "netplan", "check", "topologies/overlay.yaml", "--provider",
         "lab", "--format", fmt],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, cwd=REPO,
        env={**os.environ, "NETPLAN_LAB_DIR": str(tmp_path / "lab")},
    )  # fmt: skip
    [line] = result.stderr.splitlines()
    assert result.returncode == 1 and line.startswith("error: no lab is up in ")
    if fmt == "json":
        data = json.loads(result.stdout)
        jsonschema.validate(data, SCHEMA)
        [error] = data["errors"]
        assert error["text"] == line.removeprefix("error: ") and error["line"] is None
        assert error["hint"].startswith("netplan lab up --hosts ")
        assert " (hint: " not in error["message"]
    else:
        title = "title=netplan check failed"
        assert re.fullmatch(rf"::error file=topologies/overlay.yaml,{title}::no lab is up in .*\n",
                            result.stdout)
