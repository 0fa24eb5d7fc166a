"""verify's output: a pass/fail table, versioned JSON, GitHub annotations, JUnit XML.

The GitHub and JUnit forms point at each check's line in the topology file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from netplan.github_annotations import annotation
from netplan.reachability.run import CheckResult
from netplan.topology.positions import Pos

FORMAT_VERSION = 1

Lines = list[tuple[str, str | None]]
"""Text with an optional rich style, as the CLI prints it."""


def _to(result: CheckResult) -> str:
    written, probed = result.planned.check.to, result.planned.destination
    return written if written == probed else f"{written} ({probed})"


def _expected_got(result: CheckResult) -> str:
    return f"expected {result.planned.check.expect}, got {result.got} ({result.detail})"


def render_table(results: list[CheckResult]) -> Lines:
    """One row per check, then one line per failure with what was seen, then a total."""
    header = ("RESULT", "CHECK", "FROM", "TO", "EXPECTED", "GOT", "TIME")
    rows = [
        ("PASS" if r.passed else "FAIL", r.planned.name, r.planned.check.source, _to(r),
         r.planned.check.expect, r.got, f"{r.seconds:.2f}s")
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines: Lines = [("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
                     "bold")]
    for row, result in zip(rows, results, strict=True):
        text = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        lines.append((text, "green" if result.passed else "bold red"))
    failed = [r for r in results if not r.passed]
    for result in failed:
        lines.append((f"FAIL {result.planned.name}: {_expected_got(result)}", "red"))
    lines.append((summary(results), None))
    return lines


def summary(results: list[CheckResult]) -> str:
    failed = [r for r in results if not r.passed]
    if not failed:
        return f"verify: all {len(results)} checks passed"
    names = ", ".join(f"'{r.planned.name}'" for r in failed)
    return f"verify: {len(failed)} of {len(results)} checks failed: {names}"


def report_json(topology: str, file: str, results: list[CheckResult]) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "command": "verify",
        "topology": topology,
        "file": file,
        "passed": all(r.passed for r in results),
        "counts": {"checks": len(results), "failed": sum(not r.passed for r in results)},
        "checks": [
            {
                "index": r.planned.index,
                "name": r.planned.name,
                "from": r.planned.check.source,
                "to": r.planned.check.to,
                "host": r.planned.host,
                "netns": r.planned.netns,
                "protocol": r.planned.protocol,
                "destination": r.planned.destination,
                "expect": r.planned.check.expect,
                "got": r.got,
                "passed": r.passed,
                "detail": r.detail,
                "attempts": r.attempts,
                "seconds": r.seconds,
            }
            for r in results
        ],
    }


def render_github(file: str, results: list[CheckResult], where: Mapping[int, Pos]) -> list[str]:
    """Workflow commands: an `::error` at each failed check's line, then the total."""
    lines = []
    for result in results:
        if result.passed:
            continue
        lines.append(annotation("error", file, where.get(result.planned.index),
                                f"check {result.planned.name} failed", _expected_got(result)))
    lines.append(summary(results))
    return lines


def render_junit(topology: str, file: str, results: list[CheckResult],
                 where: Mapping[int, Pos]) -> str:
    """One test case per check; a failed check is a <failure>, one that could not run
    (its host unreachable) an <error>."""
    failures = sum(not r.passed and r.got != "error" for r in results)
    errors = sum(r.got == "error" and not r.passed for r in results)
    seconds = f"{sum(r.seconds for r in results):.3f}"
    suites = ET.Element("testsuites", name="netplan verify", tests=str(len(results)),
                        failures=str(failures), errors=str(errors), time=seconds)
    suite = ET.SubElement(suites, "testsuite", name=f"verify {topology}",
                          tests=str(len(results)), failures=str(failures),
                          errors=str(errors), time=seconds)
    for result in results:
        pos = where.get(result.planned.index)
        case = ET.SubElement(suite, "testcase", classname=f"{topology}.checks",
                             name=result.planned.name, time=f"{result.seconds:.3f}",
                             file=file, line=str(pos.line if pos else 0))
        if not result.passed:
            tag = "error" if result.got == "error" else "failure"
            element = ET.SubElement(case, tag, message=_expected_got(result), type=result.got)
            element.text = (f"{file}:{pos.line if pos else 0}: from {result.planned.check.source} "
                            f"on host {result.planned.host} to {_to(result)}: "
                            f"{_expected_got(result)} after {result.attempts} attempt(s)")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")
