"""Pure parts of containers' processes: the exec command line sent over SSH, the log
request's tail, records' checks, and what a container becomes."""

from __future__ import annotations

import base64
import json
import shlex
from pathlib import Path

import pytest

from netplan.agent import logs
from netplan.agent import process_record as records
from netplan.agent.resources import Process
from netplan.processes import hostname_of, netns_of, process_of
from netplan.topology.model import Topology
from providers.ssh_exec import exec_command


def test_exec_command_quotes_the_spec_into_one_argument() -> None:
    spec = {"argv": ["sh", "-c", "echo 'it''s'; exit 7"], "container": "web"}
    line = exec_command("python3", ".cache/netplan/agent-x.pyz", spec, sudo=True)
    words = shlex.split(line)
    assert words[:4] == ["exec", "sudo", "-n", "python3"]
    assert words[-2] == ".cache/netplan/agent-x.pyz"
    assert json.loads(words[-1]) == spec


@pytest.mark.parametrize(("tail", "expected"), [(0, b""), (1, b"c\n"), (2, b"b\nc\n"),
                                                (9, b"a\nb\nc\n")])
def test_logs_tail_gives_the_last_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        tail: int, expected: bytes) -> None:
    monkeypatch.setattr(records, "TOPOLOGIES", str(tmp_path))
    folder = Path(records.directory("t", "web"))
    folder.mkdir(parents=True)
    (folder / records.LOG).write_bytes(b"a\nb\nc\n")
    answer = logs.handle("t", {"container": "web", "offset": None, "tail": tail})
    assert base64.b64decode(answer["data"]) == expected
    assert answer["offset"] == answer["size"] == 6
    again = logs.handle("t", {"container": "web", "offset": 2, "tail": None})
    assert base64.b64decode(again["data"]) == b"b\nc\n"


def test_a_record_whose_hash_does_not_match_is_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "TOPOLOGIES", str(tmp_path))
    process = Process("web", "web", ("sleep", "1"))
    Path(records.directory("t", "web")).mkdir(parents=True)
    records.write("t", process, records.Record(42, 7, records.spec_of(process)))
    read = records.read(records.directory("t", "web"))
    assert read is not None and read.process(running=False) == Process(
        "web", "web", ("sleep", "1"), running=False)
    path = Path(records.directory("t", "web")) / records.RECORD
    data = json.loads(path.read_text())
    data["spec"]["argv"] = ["rm", "-rf", "/"]
    path.write_text(json.dumps(data))
    with pytest.raises(records.DamagedRecord):
        records.read(records.directory("t", "web"))


def test_what_each_mode_runs_in() -> None:
    topology = Topology.model_validate({
        "name": "t",
        "containers": {
            "web": {"command": "sleep 1", "hostname": "www"},
            "side": {"network_mode": "container:web", "command": ["sleep", "1"]},
            "agent": {"network_mode": "host", "command": "sleep 1", "restart": "always"},
        },
    })
    assert [netns_of(topology, n) for n in ("web", "side", "agent")] == ["web", "web", ""]
    assert [hostname_of(topology, n) for n in ("web", "side", "agent")] == ["www", "www", ""]
    web = process_of(topology, "web")
    assert web is not None and web.argv == ("/bin/sh", "-c", "sleep 1")
    assert web.running is None  # restart: no — an exited process is not drift
    agent = process_of(topology, "agent")
    assert agent is not None and agent.running is True
