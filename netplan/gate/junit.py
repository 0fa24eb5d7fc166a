"""check as JUnit XML for CI dashboards: a test suite per host, a test case per resource
(desired or observed), failing when it drifted or has a pending change."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from netplan.gate.report import CheckReport, HostCheck


def render_junit(report: CheckReport) -> str:
    suites = ET.Element("testsuites", name=f"netplan check {report.topology}")
    for host in report.hosts:
        suites.append(_suite(report, host))
    for name, failure in report.failed.items():
        suite = ET.SubElement(suites, "testsuite", name=name, tests="1", failures="0",
                              errors="1", skipped="0")  # fmt: skip
        case = ET.SubElement(suite, "testcase", name=f"host {name}",
                             classname=f"{report.topology}.{name}")  # fmt: skip
        lines = failure.error.lines()
        error = ET.SubElement(case, "error", message=lines[0], type=f"{failure.stage} failed")
        error.text = "\n".join(lines)
    _totals(suites)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def _suite(report: CheckReport, host: HostCheck) -> ET.Element:
    suite = ET.Element("testsuite", name=host.host)
    by_key: dict[str, list[str]] = {}
    labels: dict[str, set[str]] = {}
    for located in host.differences:
        d = located.difference
        by_key.setdefault(d.key, []).append(f"{d.label}: {d.text}")
        labels.setdefault(d.key, set()).update(d.classes)
    keys = sorted(host.resources.keys() | by_key.keys())
    positions = host.positions()
    for key in keys:
        resource = host.resources.get(key)
        kind = resource.KIND if resource else "resource"
        case = ET.SubElement(suite, "testcase", name=key,
                             classname=f"{report.topology}.{host.host}.{kind}",
                             file=report.source.file)  # fmt: skip
        pos = positions[key]
        if pos is not None:
            case.set("line", str(pos.line))
        if key in by_key:
            kind_of = "+".join(c for c in ("drift", "pending") if c in labels[key])
            failure = ET.SubElement(case, "failure", message=by_key[key][0], type=kind_of)
            failure.text = "\n".join(by_key[key])
    for conflict in host.conflicts:
        case = ET.SubElement(suite, "testcase", name=f"conflict: {conflict.what}",
                             classname=f"{report.topology}.{host.host}.conflict")  # fmt: skip
        text = f"{conflict.what} {conflict.owner}"
        ET.SubElement(case, "failure", message=text, type="conflict").text = text
    return suite


def _totals(suites: ET.Element) -> None:
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in suites:
        cases = suite.findall("testcase")
        counts = {"tests": len(cases),
                  "failures": sum(c.find("failure") is not None for c in cases),
                  "errors": sum(c.find("error") is not None for c in cases)}  # fmt: skip
        for name, value in counts.items():
            suite.set(name, str(value))
            totals[name] += value
        suite.set("skipped", "0")
    for name, value in totals.items():
        suites.set(name, str(value))
