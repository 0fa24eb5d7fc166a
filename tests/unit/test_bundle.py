"""The agent's zipapp: reproducible, named by its contents, self-contained."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

from netplan.agent.bundle import ZIP_TIME, agent_bundle

BUILD = (
    "import hashlib; from netplan.agent.bundle import agent_bundle; b = agent_bundle(); "
    "print(b.name, hashlib.sha256(b.archive()).hexdigest())"
)


def test_two_builds_give_the_same_bytes() -> None:
    first, second = agent_bundle.__wrapped__(), agent_bundle.__wrapped__()
    assert first.archive() == second.archive()
    assert first.name == second.name


def test_another_process_builds_the_same_file() -> None:
    """A fresh interpreter (another hash seed, other import order) gives the same name and bytes."""
    here = agent_bundle()
    there = subprocess.run(
        [sys.executable, "-c", BUILD],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345"},
    ).stdout.split()
    assert there == [here.name, hashlib.sha256(here.archive()).hexdigest()]


def test_the_name_is_the_hash_of_the_contents() -> None:
    bundle = agent_bundle()
    assert bundle.name == f"agent-{bundle.digest[:16]}.pyz"
    changed = type(bundle)(((bundle.files[0][0], bundle.files[0][1] + b"#"), *bundle.files[1:]))
    assert changed.name != bundle.name


def test_the_archive_holds_the_agent_only() -> None:
    with zipfile.ZipFile(io.BytesIO(agent_bundle().archive())) as archive:
        entries = archive.infolist()
    names = [entry.filename for entry in entries]
    assert names == sorted(names)
    assert {"__main__.py", "netplan/__init__.py", "netplan/agent/api.py"} <= set(names)
    assert {name.split("/")[0] for name in names} == {"__main__.py", "netplan"}
    netplan = [name for name in names if name.startswith("netplan/")]
    assert [n for n in netplan if not n.startswith("netplan/agent/")] == ["netplan/__init__.py"]
    assert "netplan/agent/bundle.py" not in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert {entry.date_time for entry in entries} == {ZIP_TIME}


def run(archive: Path) -> dict[str, object]:
    """One request to the agent on a bare python: no site-packages (-I -S), so nothing
    but the standard library and the bundle."""
    request = json.dumps({"version": 999, "op": "observe", "topology": "t"}) + "\n"
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(archive)],
        input=request,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


def test_it_runs_on_a_bare_python_unpacked_beside_itself(tmp_path: Path) -> None:
    archive = tmp_path / agent_bundle().name
    archive.write_bytes(agent_bundle().archive())
    first = run(archive)
    assert first["ok"] is False and "protocol version 999" in str(first["error"])
    unpacked = archive.with_suffix("")
    assert (unpacked / "netplan" / "agent" / "nlmsg.py").is_file()
    assert run(archive) == first


def test_it_runs_from_the_archive_where_it_cannot_unpack(tmp_path: Path) -> None:
    archive = tmp_path / agent_bundle().name
    archive.write_bytes(agent_bundle().archive())
    archive.with_suffix("").write_text("not a directory")
    assert run(archive)["ok"] is False
