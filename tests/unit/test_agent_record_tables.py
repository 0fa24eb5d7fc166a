"""The agent's small tables beside the last-applied record (the roster, the addresses) and
what `record remove` (after a destroy) clears: on a temporary directory, no kernel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from netplan.agent import hostsfile, netns, nsutil
from netplan.agent import record as agent_record
from netplan.agent.api import handle
from netplan.agent.state import PROTOCOL_VERSION

TABLE = {"a": {"front": "10.0.0.2", "back": "10.1.0.2"}, "b": {"front": "10.0.0.3"}}


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(agent_record, "RECORDS", tmp_path / "topologies")
    monkeypatch.setattr(nsutil, "RUN_DIR", str(tmp_path / "netns"))
    monkeypatch.setattr(hostsfile, "ETC_NETNS", str(tmp_path / "etc-netns"))
    (tmp_path / "netns").mkdir()
    (tmp_path / "etc-netns").mkdir()
    return tmp_path


def call(**request: Any) -> dict[str, Any]:
    answer = handle({"version": PROTOCOL_VERSION, "op": "record", "topology": "t", **request})
    assert answer["ok"], answer
    return answer


def test_the_addresses_are_kept_beside_the_record(records: Path) -> None:
    written = call(action="write", record={"hosts": ["local"], "addresses": TABLE,
                                           "resources": []})  # fmt: skip
    assert agent_record.addresses("t") == TABLE
    assert agent_record.roster("t") == ("local",)
    # the answer: the facts every observation now reads, as it reads them (in order)
    assert list(written["addresses"].items()) == sorted(TABLE.items())
    assert written["roster"] == ["local"]
    call(action="write", record={"hosts": ["local"], "resources": []})  # an older controller
    assert agent_record.addresses("t") == {}
    call(action="write", record={"addresses": TABLE})
    call(action="remove")
    assert agent_record.addresses("t") == {}
    assert not (records / "topologies" / "t").exists()


@pytest.mark.parametrize(
    "text",
    ['{"addresses": [1, 2]}', "not json", '{"addresses": {"a": "10.0.0.2"}}', '[]'],
)
def test_an_unreadable_table_is_no_table(records: Path, text: str) -> None:
    folder = records / "topologies" / "t"
    folder.mkdir(parents=True)
    (folder / agent_record.ADDRESSES).write_text(text)
    assert agent_record.addresses("t") == {}


def test_entries_of_the_wrong_shape_are_left_out(records: Path) -> None:
    call(action="write", record={"addresses": {"a": {"front": "10.0.0.2", "x": 5}, "b": 3}})
    assert agent_record.addresses("t") == {"a": {"front": "10.0.0.2"}}


def test_remove_takes_only_this_topologys_half_made_namespaces(records: Path) -> None:
    """A file a killed agent left (the marker, no namespace mounted) goes; one holding
    another topology's marker, nothing, or more than the marker stays."""
    run = records / "netns"
    files = {"c01": "netplan:t", "c02": "netplan:t\n", "other": "netplan:u", "empty": "",
             "longer": "netplan:t2", "named": "something else"}
    for name, text in files.items():
        (run / name).write_text(text)
    assert netns.remove_half_made("t") == ["c01", "c02"]
    (run / "c03").write_text("netplan:t")
    call(action="remove")
    assert sorted(p.name for p in run.iterdir()) == ["empty", "longer", "named", "other"]


def test_remove_takes_only_this_topologys_temporary_hosts_files(records: Path) -> None:
    """What a killed agent left between writing a hosts file and renaming it into place:
    this topology's temporaries go, empty or not; another topology's, an older
    version's (no topology in the name), a namespace's directory and other files stay."""
    etc = records / "etc-netns"
    mine = [".t:c01.k2v9x1qa.netplan", ".t:c02.p0o9i8u7.netplan"]
    kept = [".u:c03.a1b2c3d4.netplan", ".tt:c04.a1b2c3d4.netplan", ".c05.a1b2c3d4.netplan",
            ".t:c06.a1b2c3d4.netplan.bak", "hosts"]
    (etc / mine[0]).write_text("")
    (etc / mine[1]).write_text(hostsfile.hosts_marker("t") + "\n127.0.0.1 localhost\n")
    for name in kept:
        (etc / name).write_text("x")
    (etc / "c07").mkdir()
    assert hostsfile.remove_temporaries("t") == mine
    (etc / mine[0]).write_text("")
    call(action="remove")
    assert sorted(p.name for p in etc.iterdir()) == sorted([*kept, "c07"])


def test_remove_takes_the_partial_copies_of_a_killed_writer(records: Path) -> None:
    """A record written to `.NAME.PID` and not yet renamed when its agent was killed goes
    with the destroy; a file netplan does not write keeps the folder."""
    call(action="write", record={"hosts": ["local"], "addresses": TABLE, "resources": []})
    folder = records / "topologies" / "t"
    for partial in (f".{agent_record.FILE}.4242", f".{agent_record.ROSTER}.7"):
        (folder / partial).write_text("{")
    call(action="remove")
    assert not folder.exists()
    call(action="write", record={"resources": []})
    (folder / "notes.txt").write_text("someone's")
    call(action="remove")
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_the_source_is_kept_beside_the_record(records: Path) -> None:
    source = {"file": "a.yaml", "path": "/srv/a.yaml", "digest": "sha256:00"}
    call(action="write", record={**source, "hosts": ["local"], "resources": []})
    assert agent_record.source("t") == source
    (records / "topologies" / "t" / agent_record.SOURCE).unlink()  # an older netplan's record
    assert agent_record.source("t") == source
    call(action="remove")
    assert agent_record.source("t") is None
