"""verify's outputs from results: the table, JSON, GitHub annotations, JUnit (parsed by
junitparser); and the agent's probe request checked without a kernel."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml

from netplan.agent.errors import ProtocolError
from netplan.agent.probe import Probe, _checksum, _echo_request, _read_icmp, handle
from netplan.reachability.report import render_github, render_junit, render_table, report_json
from netplan.reachability.resolve import PlannedCheck
from netplan.reachability.run import CheckResult
from netplan.topology.model import ReachabilityCheck
from netplan.topology.positions import Pos


def result(index: int, expect: str, got: str, detail: str, name: str | None = None
           ) -> CheckResult:
    check = ReachabilityCheck.model_validate(
        {"from": "web", "to": "db", "expect": expect, "name": name})
    planned = PlannedCheck(index, check, "local", "web", "icmp", "10.0.0.3", None)
    return CheckResult(planned, got, detail, 3, 1.5)  # type: ignore[arg-type]


RESULTS = [
    result(0, "reachable", "reachable", "echo reply"),
    result(1, "unreachable", "reachable", "echo reply", name="across: bridges, 100%"),
    result(2, "reachable", "error", "host b failed: cannot connect", name="far"),
]
WHERE = {0: Pos(12, 5), 1: Pos(13, 5), 2: Pos(14, 5)}


def test_table_has_a_row_per_check_and_names_the_failures() -> None:
    lines = [text for text, _ in render_table(RESULTS)]
    assert lines[0].split() == ["RESULT", "CHECK", "FROM", "TO", "EXPECTED", "GOT", "TIME"]
    assert lines[1].split()[:5] == ["PASS", "web", "->", "db", "web"]
    assert "FAIL across: bridges, 100%: expected unreachable, got reachable (echo reply)" in lines
    assert lines[-1] == "verify: 2 of 3 checks failed: 'across: bridges, 100%', 'far'"


def test_json_is_versioned() -> None:
    data = report_json("t", "t.yaml", RESULTS)
    assert (data["format_version"], data["passed"], data["counts"]) == (
        1, False, {"checks": 3, "failed": 2})
    assert data["checks"][1]["destination"] == "10.0.0.3"


def test_github_annotations_point_at_the_check_and_escape_properties() -> None:
    lines = render_github("topo.yaml", RESULTS, WHERE)
    assert lines[0] == ("::error file=topo.yaml,line=13,col=5,title=check across%3A bridges%2C "
                        "100%25 failed::expected unreachable, got reachable (echo reply)")
    assert lines[1].startswith("::error file=topo.yaml,line=14,col=5,")
    assert len(lines) == 3


def test_junit_parses_with_a_failure_and_an_error(tmp_path: Path) -> None:
    path = tmp_path / "verify.xml"
    path.write_text(render_junit("t", "t.yaml", RESULTS, WHERE))
    [suite] = list(JUnitXml.fromfile(str(path)))
    assert (suite.tests, suite.failures, suite.errors) == (3, 1, 1)
    cases = {case.name: case for case in suite}
    assert cases["web -> db"].is_passed
    [failure] = cases["across: bridges, 100%"].result
    assert isinstance(failure, Failure) and "t.yaml:13" in (failure.text or "")
    [error] = cases["far"].result
    assert isinstance(error, Error)


def test_echo_request_checksum_verifies() -> None:
    packet = _echo_request(0x1234, 7)
    assert _checksum(packet) == 0
    assert struct.unpack("!BBHHH", packet[:8])[3:] == (0x1234, 7)


def test_only_our_reply_counts() -> None:
    reply = struct.pack("!BBHHH", 0, 0, 0, 0x1234, 7)
    assert _read_icmp(reply, 0x1234, 7, True) is not None
    assert _read_icmp(reply, 0x1235, 7, True) is None  # another probe's
    assert _read_icmp(reply, 0x1234, 7, False) is None  # from another address
    inner = bytes([0x45]) + bytes(19) + struct.pack("!BBHHH", 8, 0, 0, 0x1234, 7)
    unreachable = struct.pack("!BBHHH", 3, 1, 0, 0, 0) + inner
    answer = _read_icmp(unreachable, 0x1234, 7, False)
    assert answer is not None and (answer.reachable, answer.detail) == (False, "host unreachable")


@pytest.mark.parametrize(("request_", "message"), [
    ({}, "needs a list 'probes'"),
    ({"probes": [{"id": 0}]}, "malformed probe"),
    ({"probes": [{"id": 0, "netns": None, "protocol": "sctp", "address": "1.2.3.4"}]},
     "not icmp, tcp or udp"),
])
def test_malformed_probe_requests_are_refused(request_: dict[str, object], message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        handle("t", request_)


def test_an_empty_batch_needs_no_kernel() -> None:
    assert handle("t", {"probes": []}) == {"outcomes": []}
    assert Probe.from_json({"id": 1, "netns": "a", "protocol": "tcp", "address": "10.0.0.1",
                            "port": 80}).port == 80
