"""check's report in each format, from a made-up host: JSON against its schema, JUnit
through junitparser, GitHub annotations escaped; the last-applied record and saved plans."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml

from netplan.agent import record as agent_record
from netplan.agent.api import handle
from netplan.agent.resources import Address, Bridge, Netns, Resource, Veth, Vxlan
from netplan.agent.state import PROTOCOL_VERSION, Facts, HostState, VniInUse
from netplan.errors import AgentError, TopologyError
from netplan.gate.github import annotation, render_github
from netplan.gate.json_report import report_json
from netplan.gate.junit import render_junit
from netplan.gate.record import LastApplied, Source
from netplan.gate.report import CheckReport, build_report
from netplan.gate.saved import (
    FORMAT_VERSION,
    PlanFileError,
    SavedPlan,
    content_digest,
    read_saved_plan,
    stale_hosts,
    write_saved_plan,
)
from netplan.gate.text import render_line, render_text
from netplan.pipeline import Failure as HostFailure
from netplan.plan.changes import HostPlan
from netplan.plan.order import plan_host
from netplan.topology.loader import load_positions, load_topology
from netplan.topology.positions import Pos, Positions

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "check.schema.json").read_text())
TOPOLOGY = """\
name: t
networks:
  front: {subnet: 10.0.0.0/24}
containers:
  web:
    networks: [front]
"""
BR = Bridge("br-front", "front")
WEB = Netns("web")
VETH = Veth("web", "eth0", "vethweb", "br-front", "web", "front")
ADDR = Address("web", "eth0", "10.0.0.2/24")
SOURCE = Source("t.yaml", "sha256:" + "0" * 64)
BEFORE = Source("t.yaml", "sha256:" + "1" * 64)
"""The file as it was at the last apply: before the address was added."""


def state(*resources: Resource) -> HostState:
    result = HostState()
    for resource in resources:
        result.add(resource)
    return result


@pytest.fixture
def report(tmp_path: Path) -> CheckReport:
    """Host a drifted (an MTU) and grew a pending change (no address yet); host b failed."""
    file = tmp_path / "t.yaml"
    file.write_text(TOPOLOGY)
    applied = state(BR, WEB, VETH)
    observed = state(BR, WEB, Veth("web", "eth0", "vethweb", "br-front", "web", "front", mtu=1300))
    plans = {"a": plan_host("a", state(BR, WEB, VETH, ADDR), observed)}
    records = {"a": LastApplied.now(applied, BEFORE)}
    failed = {"b": HostFailure("connect", AgentError("b", "ssh", "no route to host"))}
    return build_report("t", ["a", "b"], SOURCE, plans, records, failed,
                        partial(load_positions, file))  # fmt: skip


def one_host_report(
    desired: HostState, observed: HostState, record: LastApplied | None
) -> CheckReport:  # fmt: skip
    plans = {"a": plan_host("a", desired, observed)}
    return build_report("t", ["a"], SOURCE, plans, {"a": record}, {}, lambda: Positions("t.yaml"))


def test_text_says_why_each_class_is_there(report: CheckReport) -> None:
    text = [line for line, _ in render_text(report)]
    assert "host a: drift: link:web/eth0.mtu: desired 1500, observed 1300" in text
    assert text[-2:] == [
        "drift: 1 difference(s): the hosts changed since the last apply "
        "(netplan apply t.yaml repairs it)",
        "pending: 1 difference(s): t.yaml changed since the last apply "
        "(netplan plan t.yaml shows them, netplan apply t.yaml applies them)",
    ]


def test_pending_after_an_apply_of_another_file_names_that_file(tmp_path: Path) -> None:
    """The same topology applied from another file: this file did not change since then."""
    applied = state(BR, WEB)
    other = Source(str(tmp_path / "moved.yaml"), BEFORE.digest)
    text = [line for line, _ in render_text(one_host_report(
        state(BR, WEB, VETH), applied, LastApplied.now(applied, other)))]
    assert text[-1] == (
        f"pending: 1 difference(s): the last apply was made from {other.file}, not t.yaml "
        "(netplan plan t.yaml shows them, netplan apply t.yaml applies them)"
    )


def test_the_same_file_named_another_way_is_the_file_that_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # fmt: skip
    (tmp_path / "t.yaml").write_text(TOPOLOGY)
    monkeypatch.chdir(tmp_path)
    applied = state(BR, WEB)
    record = LastApplied.now(applied, Source(str(tmp_path / "t.yaml"), BEFORE.digest))
    text = [line for line, _ in render_text(one_host_report(state(BR, WEB, VETH), applied, record))]
    assert text[-1].startswith("pending: 1 difference(s): t.yaml changed since the last apply")


def test_the_file_unchanged_every_difference_is_the_hosts() -> None:
    """What the file compiles to changed though the file did not (an underlay's MTU,
    say): the hosts changed, which is drift, not a pending change of the file."""
    applied, wanted = state(Bridge("br-front", "front", mtu=1450)), state(
        Bridge("br-front", "front", mtu=1350))
    text = [line for line, _ in render_text(one_host_report(
        wanted, applied, LastApplied.now(applied, SOURCE)))]
    assert text == [
        "host a: drift: link:/br-front.mtu: desired 1350, observed 1450",
        "drift: 1 difference(s): the hosts changed since the last apply "
        "(netplan apply t.yaml repairs it)",
    ]


def test_without_a_record_differences_are_not_applied_yet() -> None:
    text = [line for line, _ in render_text(one_host_report(state(BR, WEB), state(BR), None))]
    assert text[1:] == [
        "pending: 1 difference(s): not applied yet "
        "(netplan plan t.yaml shows them, netplan apply t.yaml applies them)",
        "no last-applied record on a (never applied by this netplan, destroyed, or no apply "
        "has succeeded there yet): every difference there counts as pending",
    ]


def test_a_conflict_is_not_called_drift() -> None:
    taken = state()
    taken.foreign[BR.key] = "is not managed by netplan"
    text = [line for line, _ in render_text(one_host_report(state(BR), taken, None))]
    assert text[0] == "host a: conflict: bridge br-front is not managed by netplan"
    assert text[-2] == ("conflict: 1: objects netplan does not own are in the way of t.yaml "
                        "(apply changes nothing until they, or the file, change)")
    assert not [line for line in text if line.startswith("drift")]


def test_json_matches_its_schema(report: CheckReport) -> None:
    data = report_json(report)
    jsonschema.validate(data, SCHEMA)
    assert data["exit_code"] == 1 and data["counts"] == {"drift": 1, "pending": 1, "conflict": 0}
    by_text = {d["text"]: d for d in data["hosts"]["a"]["differences"]}
    mtu = by_text["link:web/eth0.mtu: desired 1500, observed 1300"]
    assert (mtu["classes"], mtu["line"], mtu["column"]) == (["drift"], 6, 16)
    assert by_text["addr:web/eth0/10.0.0.2/24: desired present, observed missing"]["classes"] == [
        "pending"
    ]
    error = {"stage": "connect", "lines": ["host b: ssh: no route to host"]}
    assert data["hosts"]["b"] == {"status": "failed", "error": error}


def test_junit_parses_one_case_per_resource(report: CheckReport) -> None:
    xml = JUnitXml.fromstring(render_junit(report))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {"a", "b"}
    cases = {case.name: case for case in suites["a"]}
    assert set(cases) == {BR.key, WEB.key, VETH.key, ADDR.key}
    assert [r.type for r in cases[VETH.key].result if isinstance(r, Failure)] == ["drift"]
    assert [r.type for r in cases[ADDR.key].result if isinstance(r, Failure)] == ["pending"]
    assert cases[BR.key].is_passed
    # Each case points at the file's entry its resource was made for, in sync or not.
    lines = {name: case._elem.get("line") for name, case in cases.items()}
    assert lines == {BR.key: "3", WEB.key: "5", VETH.key: "6", ADDR.key: "6"}
    assert (suites["a"].tests, suites["a"].failures) == (4, 2)
    [case] = list(suites["b"])
    assert [r.type for r in case.result if isinstance(r, Error)] == ["connect failed"]


def test_github_annotations_point_at_the_file(report: CheckReport) -> None:
    lines = render_github(report)
    mtu = "link:web/eth0.mtu: desired 1500, observed 1300"
    assert f"::error file=t.yaml,line=6,col=16,title=drift::host a: {mtu}" in lines
    pending = "::warning file=t.yaml,line=6,col=16,title=pending::"
    assert any(line.startswith(pending) for line in lines)
    assert "::error file=t.yaml,title=connect failed::host b: ssh: no route to host" in lines


def test_github_escapes_properties_and_data() -> None:
    line = annotation("error", "a,b:c.yaml", Pos(1, 2), "x,y", "50%\nnext")
    assert line == "::error file=a%2Cb%3Ac.yaml,line=1,col=2,title=x%2Cy::50%25%0Anext"


def test_agent_keeps_the_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agent_record, "RECORDS", tmp_path)

    def call(**request: object) -> dict[str, object]:
        return handle({"version": PROTOCOL_VERSION, "op": "record", "topology": "t", **request})

    assert call(action="read") == {"version": PROTOCOL_VERSION, "ok": True, "record": None}
    record = LastApplied.now(state(BR, WEB), SOURCE)
    assert call(action="write", record=record.to_json())["ok"]
    read = LastApplied.from_json(call(action="read")["record"])
    assert read is not None and read.desired.resources == record.desired.resources
    assert call(action="remove")["ok"] and not (tmp_path / "t").exists()
    assert call(action="read")["record"] is None
    refused = handle({"version": PROTOCOL_VERSION, "op": "record", "topology": "../x",
                      "action": "read"})  # fmt: skip
    assert refused["ok"] is False


def test_unreadable_records_count_as_none() -> None:
    assert LastApplied.from_json({"format_version": 99}) is None
    assert LastApplied.from_json({"format_version": 1, "resources": [{"kind": "?"}]}) is None


def test_saved_plan_round_trip_and_staleness(tmp_path: Path) -> None:
    observed = state(BR)
    plans = {"a": plan_host("a", state(BR, WEB), observed)}
    saved = SavedPlan.of("t", SOURCE, False, plans, {"a": None})
    write_saved_plan(saved, tmp_path / "plan.json")
    read = read_saved_plan(tmp_path / "plan.json")
    assert read is not None and read.hosts["a"].steps == plans["a"].steps
    assert stale_hosts(read, {"a": observed}) == []
    assert stale_hosts(read, {"a": state(Bridge("br-front", "front", up=False))}) == ["a"]
    grown = state(BR)
    grown.foreign["netns:web"] = "is not managed by netplan"  # a name the plan needs, taken
    assert stale_hosts(read, {"a": grown}) == ["a"]
    unrelated = state(BR)
    unrelated.foreign["link:/eth0"] = "is not managed by netplan"
    assert stale_hosts(read, {"a": unrelated}) == []


def saved_document(tmp_path: Path) -> Path:
    """A plan saved as `plan --out` saves it (one host: a namespace to create)."""
    plans = {"a": plan_host("a", state(BR, WEB), state(BR))}
    write_saved_plan(SavedPlan.of("t", SOURCE, False, plans, {"a": None}), tmp_path / "plan.json")
    return tmp_path / "plan.json"


def test_a_saved_plan_carries_the_digest_of_its_content(tmp_path: Path) -> None:
    path = saved_document(tmp_path)
    document = json.loads(path.read_text())
    assert document["format_version"] == FORMAT_VERSION
    assert document["plan_digest"] == content_digest(document)
    assert document["plan_digest"].startswith("sha256:") and len(document["plan_digest"]) == 71
    path.write_text(json.dumps(document, indent=4, sort_keys=True))  # laid out anew: same content
    read = read_saved_plan(path)
    assert read is not None and [s.resource for s in read.hosts["a"].steps] == [WEB]


def edit_step(document: dict[str, Any]) -> None:
    document["hosts"]["a"]["steps"][0]["resource"]["name"] = "other"


def edit_desired(document: dict[str, Any]) -> None:
    document["hosts"]["a"]["desired"].pop()


def edit_fingerprint(document: dict[str, Any]) -> None:
    document["hosts"]["a"]["fingerprint"] = "sha256:" + "2" * 64


def edit_destroy(document: dict[str, Any]) -> None:
    document["destroy"] = True


def drop_digest(document: dict[str, Any]) -> None:
    del document["plan_digest"]


def add_a_field(document: dict[str, Any]) -> None:
    document["note"] = "reviewed"


@pytest.mark.parametrize("edit", [edit_step, edit_desired, edit_fingerprint, edit_destroy,
                                  drop_digest, add_a_field])  # fmt: skip
def test_a_saved_plan_changed_after_it_was_written_is_refused(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None]
) -> None:
    path = saved_document(tmp_path)
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document, indent=1))
    with pytest.raises(PlanFileError) as refused:
        read_saved_plan(path)
    assert str(refused.value) == (
        f"{path}: the plan file was changed after netplan plan wrote it (its content does not "
        f"match its plan_digest); nothing was changed (hint: run netplan plan t.yaml --out "
        f"{path} again)")


@pytest.mark.parametrize(("version", "message"), [
    (2, "plan format 2 was written by an older netplan, without the plan_digest this one "
        "checks; nothing was changed (hint: run netplan plan t.yaml --out {path} again)"),
    (99, "plan format 99 is not supported (hint: re-run netplan plan with this version)"),
])  # fmt: skip
def test_a_saved_plan_of_another_format_is_refused(
    tmp_path: Path, version: int, message: str
) -> None:
    path = saved_document(tmp_path)
    document = json.loads(path.read_text())
    document["format_version"] = version
    document["plan_digest"] = content_digest(document)  # consistent, yet not this format
    path.write_text(json.dumps(document))
    with pytest.raises(PlanFileError) as refused:
        read_saved_plan(path)
    assert str(refused.value) == f"{path}: " + message.format(path=path)


def test_a_saved_plan_is_stale_once_another_device_takes_its_vni() -> None:
    """Its VXLAN device would be refused by the kernel now; a device with another VNI,
    or on another port, changes nothing."""
    tunnel = Vxlan("vx-ov", "ov", 4096, "192.168.56.11", "ul0", "br-ov")
    plans = {"a": plan_host("a", state(BR, tunnel), state(BR))}
    saved = SavedPlan.of("t", SOURCE, False, plans, {"a": None})

    def with_others(**tunnels: VniInUse) -> HostState:
        observed = state(BR)
        observed.facts = Facts(vnis_in_use=dict(tunnels))
        return observed

    assert stale_hosts(saved, {"a": with_others(**{"vx-x": VniInUse(4096, 4789)})}) == ["a"]
    assert stale_hosts(saved, {"a": with_others(**{"vx-x": VniInUse(4097, 4789)})}) == []
    assert stale_hosts(saved, {"a": with_others(**{"vx-x": VniInUse(4096, 4790)})}) == []


def test_a_topology_is_not_a_saved_plan(tmp_path: Path) -> None:
    yaml_file = tmp_path / "t.yaml"
    yaml_file.write_text(TOPOLOGY)
    json_topology = tmp_path / "t.json"
    json_topology.write_text('{"name": "t"}')
    assert read_saved_plan(yaml_file) is None and read_saved_plan(json_topology) is None
    assert read_saved_plan(tmp_path / "missing") is None


def test_no_host_checked_is_not_in_sync() -> None:
    failed = {"a": HostFailure("connect", AgentError("a", "ssh", "no route to host"))}
    report = build_report("t", ["a"], SOURCE, {}, {}, failed, lambda: Positions("t.yaml"))
    assert render_text(report) == []
    assert render_line(report) == "not checked: no host could be checked"
    assert report_json(report)["in_sync"] is False


def test_a_host_not_checked_makes_the_json_not_in_sync() -> None:
    """The hosts reached match, one could not be checked: a CI step reading `in_sync`
    must not pass (the text says which hosts matched)."""
    failed = {"b": HostFailure("connect", AgentError("b", "ssh", "no route to host"))}
    plan = HostPlan("a")
    report = build_report("t", ["a", "b"], SOURCE, {"a": plan}, {"a": None}, failed,
                          lambda: Positions("t.yaml"))  # fmt: skip
    assert (report_json(report)["in_sync"], report.exit_code) == (False, 1)
    assert render_text(report) == [("in sync: the hosts reached match t.yaml", None)]


def test_a_saved_plan_is_not_a_topology(tmp_path: Path) -> None:
    """`netplan check plan.json`: one problem naming what the file is, not one per field."""
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps({"kind": "netplan-plan", "format_version": 2,
                                 "file": "t.yaml", "hosts": {}}))  # fmt: skip
    with pytest.raises(TopologyError) as raised:
        load_topology(saved)
    assert raised.value.lines() == [
        f"{saved}: this is a saved plan (netplan plan --out), not a topology file (hint: run "
        f"it with `netplan apply {saved}`; other commands take the topology file it was made "
        "from (t.yaml))"
    ]
