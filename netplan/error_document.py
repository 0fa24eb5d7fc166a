"""A failed command's errors as a document of the machine-readable format it was asked
for: JSON, JUnit XML or GitHub annotations. A CI step that reads the command's stdout
(`check --format junit > check.xml`) then gets a valid document, not an empty file,
when netplan stops before it has a result (a typo in the file, a host it cannot reach).
The CLI prints it once, on stdout, besides the plain `error:` lines on stderr."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from netplan.errors import Problem, one_line
from netplan.github_annotations import annotation
from netplan.output import Output
from netplan.topology.positions import Pos


def render_errors(output: Output, problems: list[Problem]) -> str:
    """The document of `output.format` that says the command failed with `problems`."""
    if output.format == "junit":
        return errors_junit(output, problems)
    if output.format == "github":
        return "\n".join(errors_github(output, problems))
    return json.dumps(errors_json(output, problems), indent=2)


def errors_json(output: Output, problems: list[Problem]) -> dict[str, Any]:
    """The command's result fields are left out: `errors` says why there is none."""
    return {
        "format_version": output.json_version,
        "command": output.command,
        "file": _file(output) or None,
        "exit_code": 1,
        "errors": [
            {
                "message": problem.message,
                "file": problem.file or None,
                "line": problem.line or None,
                "column": problem.column or None,
                "path": problem.path or None,
                "hint": problem.hint or None,
                "text": problem.render(),
            }
            for problem in problems
        ],
    }


def errors_junit(output: Output, problems: list[Problem]) -> str:
    """A test suite with one test case in error per problem."""
    name = f"netplan {output.command}"
    count = {"tests": str(len(problems)), "failures": "0", "errors": str(len(problems))}
    suites = ET.Element("testsuites", {"name": name, **count})
    suite_name = one_line(f"{name} {_file(output)}".rstrip())
    suite = ET.SubElement(suites, "testsuite", {"name": suite_name, **count, "skipped": "0"})
    for problem in problems:
        case = ET.SubElement(suite, "testcase", name=_case_name(output, problem),
                             classname=f"netplan.{output.command}")  # fmt: skip
        file = problem.file or _file(output)
        if file:
            case.set("file", one_line(file))
        if problem.line:
            case.set("line", str(problem.line))
        text = problem.render()
        error = ET.SubElement(case, "error", message=text, type=f"{output.command} failed")
        error.text = text
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def errors_github(output: Output, problems: list[Problem]) -> list[str]:
    """An `::error` annotation per problem, on its line of its file where known, else on
    the command's file."""
    lines = []
    for problem in problems:
        pos = Pos(problem.line, problem.column or 1) if problem.line else None
        message = Problem(problem.message, problem.path, problem.hint).render()
        lines.append(annotation("error", one_line(problem.file or _file(output)), pos,
                                f"netplan {output.command} failed", message))  # fmt: skip
    return lines


def _file(output: Output) -> str:
    """The command's file, as given on its command line; "" when it has none."""
    return "" if output.file is None else str(output.file)


def _case_name(output: Output, problem: Problem) -> str:
    """Where the problem is (`file:line:col field.path`), else the command."""
    place = problem.file
    if problem.line:
        place += f":{problem.line}:{problem.column}"
    return one_line(" ".join(part for part in (place, problem.path) if part)
                    or f"netplan {output.command}")
