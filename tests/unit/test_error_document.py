"""A failed command's errors in the format it was asked for: JSON (check's against its
schema), JUnit parsed by junitparser, GitHub annotations; and the CLI prints that document
once, only when the command has printed none."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import typer
from junitparser import Error, JUnitXml

from netplan import cli
from netplan.error_document import errors_github, errors_json, errors_junit, render_errors
from netplan.errors import NetplanError, Problem, TopologyError
from netplan.output import Output
from providers.ssh_errors import SSHError

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "check.schema.json").read_text())
CHECK = Output("check", "json", Path("t.yaml"), 2)
ALIAS = Problem("alias 'db' is taken", "containers.web.aliases[1]", "choose another",
                "t.yaml", 12, 30)  # fmt: skip
LINE = Problem.of_line("no lab is up (hint: netplan lab up)")
"""A one-line error: no place, its hint at the end of its text."""


def test_json_names_each_problem_and_matches_checks_schema() -> None:
    data = errors_json(CHECK, [ALIAS, LINE])
    jsonschema.validate(data, SCHEMA)
    assert {k: data[k] for k in ("format_version", "command", "file", "exit_code")} == {
        "format_version": 2, "command": "check", "file": "t.yaml", "exit_code": 1}
    assert "hosts" not in data and "in_sync" not in data
    alias, line = data["errors"]
    assert alias == {"message": "alias 'db' is taken", "file": "t.yaml", "line": 12,
                     "column": 30, "path": "containers.web.aliases[1]",
                     "hint": "choose another", "text": ALIAS.render()}  # fmt: skip
    assert line == {"message": "no lab is up", "file": None, "line": None, "column": None,
                    "path": None, "hint": "netplan lab up",
                    "text": "no lab is up (hint: netplan lab up)"}  # fmt: skip


@pytest.mark.parametrize(("line", "message", "hint"), [
    ("no lab is up (hint: netplan lab up)", "no lab is up", "netplan lab up"),
    ("no hint here", "no hint here", ""),
    ("x (hint: use a (b) form)", "x", "use a (b) form"),
    ("a (hint: inside) and after", "a (hint: inside) and after", ""),
    ("a (why) (hint: b)", "a (why)", "b"),
])  # fmt: skip
def test_a_one_line_error_keeps_its_hint_apart(line: str, message: str, hint: str) -> None:
    problem = Problem.of_line(line)
    assert (problem.message, problem.hint, problem.render()) == (message, hint, line)


def test_the_schema_refuses_an_error_document_with_a_result() -> None:
    data = {**errors_json(CHECK, [ALIAS]), "in_sync": True}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_junit_has_a_case_in_error_per_problem() -> None:
    xml = JUnitXml.fromstring(errors_junit(CHECK, [ALIAS, LINE]))
    [suite] = list(xml)
    assert (suite.name, suite.tests, suite.errors, suite.failures) == ("netplan check t.yaml",
                                                                       2, 2, 0)
    alias, line = list(suite)
    assert alias.name == "t.yaml:12:30 containers.web.aliases[1]"
    assert (alias._elem.get("file"), alias._elem.get("line")) == ("t.yaml", "12")
    [error] = [r for r in alias.result if isinstance(r, Error)]
    assert (error.message, error.type) == (ALIAS.render(), "check failed")
    assert line.name == "netplan check" and line._elem.get("file") == "t.yaml"


def test_junit_stays_xml_with_control_characters() -> None:
    hostile = Problem("key 'a\x1bb' is unknown", "a\x1bb", file="t.yaml", line=1, column=1)
    [suite] = list(JUnitXml.fromstring(errors_junit(CHECK, [hostile])))
    [case] = list(suite)
    assert "\x1b" not in case.name and "\\x1b" in case.name


def test_github_annotates_each_problem_on_its_line_else_on_the_file() -> None:
    lines = errors_github(Output("check", "github", Path("t.yaml")), [ALIAS, LINE])
    assert lines == [
        "::error file=t.yaml,line=12,col=30,title=netplan check failed::"
        "containers.web.aliases[1]: alias 'db' is taken (hint: choose another)",
        "::error file=t.yaml,title=netplan check failed::no lab is up (hint: netplan lab up)",
    ]


def test_github_without_any_file_annotates_the_run() -> None:
    multi = Problem("50%\nsplit")
    [line] = errors_github(Output("show", "github"), [multi])
    assert line == "::error title=netplan show failed::50%25\\nsplit"


def test_render_picks_the_format() -> None:
    assert render_errors(Output("plan", "json", Path("t.yaml")), [LINE]).startswith("{")
    assert render_errors(Output("verify", "junit"), [LINE]).startswith("<?xml")
    assert render_errors(Output("verify", "github"), [LINE]).startswith("::error ")


def test_errors_as_problems_keep_their_places_and_hints() -> None:
    assert TopologyError([ALIAS]).as_problems() == [ALIAS]
    assert NetplanError("plain").as_problems() == [Problem("plain")]
    ssh = SSHError("hostA", "connection refused", "is sshd running?")
    assert ssh.as_problems() == [Problem("host hostA: connection refused",
                                         hint="is sshd running?")]  # fmt: skip
    assert ssh.lines() == ["host hostA: connection refused (hint: is sshd running?)"]


def failing(output: Output | None, error: Exception) -> None:
    with cli.reported(output):
        raise error


@pytest.mark.parametrize("fmt", ["json", "junit", "github"])
def test_the_cli_prints_the_document_and_the_plain_lines(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as exited:
        failing(Output("check", fmt, Path("t.yaml"), 2), TopologyError([ALIAS]))
    out, err = capsys.readouterr()
    assert exited.value.exit_code == 1
    assert out == render_errors(Output("check", fmt, Path("t.yaml"), 2), [ALIAS]) + "\n"
    assert err == f"error: {ALIAS.render()}\n"


def test_text_output_gets_the_plain_lines_alone(capsys: pytest.CaptureFixture[str]) -> None:
    for output in (None, Output("check", "text", Path("t.yaml"))):
        with pytest.raises(typer.Exit):
            failing(output, TopologyError([ALIAS]))
        assert capsys.readouterr() == ("", f"error: {ALIAS.render()}\n")


def test_a_command_that_printed_its_document_prints_no_second(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`check --format json` with a failed host: its report names the host, then exit 1."""
    with pytest.raises(typer.Exit), cli.reported(Output("check", "json", Path("t.yaml"), 2)):
        cli.print_json({"hosts": {"b": {"status": "failed"}}})
        cli.fail(["host b: no route to host"])
    out, err = capsys.readouterr()
    assert json.loads(out) == {"hosts": {"b": {"status": "failed"}}}
    assert err == "error: host b: no route to host\n"


def test_an_internal_error_is_a_document_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit):
        failing(Output("validate", "json", Path("t.yaml")), ValueError("boom"))
    [error] = json.loads(capsys.readouterr().out)["errors"]
    assert error["message"].startswith("internal error: ValueError: boom")
