"""`netplan check` as CI runs it: exit codes, drift vs pending in every output format (JSON
validated against docs/check.schema.json, JUnit parsed by junitparser, GitHub annotations
on the right line), and saved plans (stale or edited ones refused, fresh ones applied
exactly)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from junitparser import Failure, JUnitXml

from tests.e2e.hostview import REPO, assert_unchanged, ip_json, snapshot

SCHEMA = json.loads((REPO / "docs" / "check.schema.json").read_text())
NAME = "ci-gate"
TABLE = f"netplan_{NAME}"
FILE = "topologies/ci.yaml"
TOPOLOGY = f"""\
name: {NAME}
networks:
  front:
    subnet: 10.77.0.0/24
containers:
  web:
    networks: [front]
    publish: ["8080:80/tcp"]
  db:
    networks: [front]
"""
CACHE = """\
  cache:
    networks: [front]
"""
RECORD = Path(f"/run/netplan/topologies/{NAME}/last-applied.json")


class Repo:
    """A checkout as CI has it: the CLI runs from its root on `topologies/ci.yaml`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.file = root / FILE
        self.file.parent.mkdir()
        self.file.write_text(TOPOLOGY)

    def netplan(self, *args: str, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        """`python: ("-X", "importtime")`: options for the interpreter."""
        return subprocess.run(
            [sys.executable, *python, "-m", "netplan", *args], cwd=self.root,
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
        )  # fmt: skip

    def ok(self, *args: str) -> str:
        result = self.netplan(*args)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def check(self, fmt: str = "text", expect: int = 2) -> str:
        result = self.netplan("check", FILE, "--format", fmt)
        assert result.returncode == expect, result.stdout + result.stderr
        return result.stdout

    def position(self, container: str, network: str | None = None) -> tuple[int, int]:
        """Line and column of `container:`, or of `network` in its networks list."""
        lines = self.file.read_text().splitlines()
        start = lines.index(f"  {container}:")
        if network is None:
            return start + 1, 3
        for number in range(start + 1, len(lines)):
            found = re.search(rf"networks: \[.*\b({network})\b", lines[number])
            if found:
                return number + 1, found.start(1) + 1
        raise AssertionError(f"no {network} under {container}")


@pytest.fixture
def repo(tmp_path: Path, clean_host: None) -> Iterator[Repo]:
    checkout = Repo(tmp_path)
    yield checkout
    checkout.file.write_text(TOPOLOGY + CACHE)  # whatever the test left, all of it goes
    checkout.ok("destroy", FILE, "--yes")
    assert not RECORD.exists()


@pytest.fixture
def checkout(tmp_path: Path) -> Repo:
    """A checkout for commands that change nothing on the host (nothing to destroy)."""
    return Repo(tmp_path)


def differences(report: dict[str, Any]) -> dict[str, list[str]]:
    jsonschema.validate(report, SCHEMA)
    return {d["text"]: d["classes"] for d in report["hosts"]["local"]["differences"]}


def junit_failures(xml: str) -> dict[str, str]:
    """Test case name → failure type, for the failing cases of host `local`."""
    parsed = JUnitXml.fromstring(xml)
    [suite] = list(parsed)
    assert suite.name == "local" and suite.tests > 0
    found = {}
    for case in suite:
        for result in case.result:
            assert isinstance(result, Failure)
            found[case.name] = result.type
    return found


def test_drift_and_pending_in_every_format(repo: Repo) -> None:
    repo.ok("apply", FILE, "--yes")
    assert RECORD.exists()
    for fmt in ("text", "json", "github", "junit"):
        repo.check(fmt, expect=0)
    assert junit_failures(repo.check("junit", expect=0)) == {}

    # Behind netplan's back: an MTU with ip, a rule with nft.
    subprocess.run(["ip", "-n", "web", "link", "set", "eth0", "mtu", "1300"], check=True)
    chain = next(e["chain"]["name"] for e in nft_table() if "chain" in e)
    subprocess.run(["nft", "add", "rule", "inet", TABLE, chain, "drop"], check=True)
    mtu = "link:web/eth0.mtu: desired 1500, observed 1300"

    text = repo.check("text")
    assert f"host local: drift: {mtu}" in text
    assert re.search(rf"host local: drift: nft:inet/{TABLE}\.rules: desired", text)
    assert "pending" not in text

    report = json.loads(repo.check("json"))
    assert report["counts"] == {"drift": 2, "pending": 0, "conflict": 0}
    assert report["exit_code"] == 2 and report["hosts"]["local"]["last_applied"] is not None
    assert differences(report)[mtu] == ["drift"]

    line, col = repo.position("web", "front")
    github = repo.check("github").splitlines()
    assert f"::error file={FILE},line={line},col={col},title=drift::host local: {mtu}" in github
    table = [a for a in github if f"nft%3Ainet/{TABLE}" in a or f"nft:inet/{TABLE}" in a]
    assert table and table[0].startswith(f"::error file={FILE},line=2,col=1,title=drift::")

    assert junit_failures(repo.check("junit")) == {
        "link:web/eth0": "drift", f"nft:inet/{TABLE}": "drift",
    }  # fmt: skip

    # Someone edits the file: a new container is pending, the host's changes still drift.
    repo.file.write_text(TOPOLOGY + CACHE)
    report = json.loads(repo.check("json"))
    found = differences(report)
    assert found[mtu] == ["drift"]
    assert found["netns:cache: desired present, observed missing"] == ["pending"]
    assert report["hosts"]["local"]["last_applied"]["file_changed"] is True
    assert "host local: pending: netns:cache: desired present, observed missing" in repo.check()
    line, _ = repo.position("cache")
    github = repo.check("github")
    pending = f"::warning file={FILE},line={line},col=3,title=pending::host local: netns:cache"
    assert pending in github
    assert junit_failures(repo.check("junit"))["netns:cache"] == "pending"

    # Apply repairs the drift and applies the pending change.
    repo.ok("apply", FILE, "--yes")
    assert repo.check(expect=0).startswith("in sync")
    assert_mtu("web", 1500)
    assert_second_plan_empty(repo)


def test_kernel_made_link_local_addresses_are_not_drift(repo: Repo) -> None:
    repo.ok("apply", FILE, "--yes")
    # netplan makes veths with IPv6 address generation off; turned on by hand, the
    # kernel gives the link an fe80:: address (and its routes) at once.
    subprocess.run(["ip", "netns", "exec", "web", "sysctl", "-qw",
                    "net.ipv6.conf.eth0.addr_gen_mode=0"], check=True)  # fmt: skip
    deadline = time.monotonic() + 10
    while not link_local("web", "eth0"):
        assert time.monotonic() < deadline, "the kernel made no fe80:: address"
        time.sleep(0.1)
    repo.check(expect=0)
    assert_second_plan_empty(repo)


def test_destroy_forgets_the_record(repo: Repo) -> None:
    repo.ok("apply", FILE, "--yes")
    repo.ok("destroy", FILE, "--yes")
    assert not RECORD.exists()
    report = json.loads(repo.check("json"))
    assert report["counts"]["drift"] == 0 and report["counts"]["pending"] > 0
    assert report["hosts"]["local"]["last_applied"] is None


def cache_entry() -> tuple[Path, int]:
    """The compile cache's entry of the topology file, and when it was last written."""
    [entry] = Path("/run/netplan/cache").glob(f"*.{NAME}.entry")
    return entry, entry.stat().st_mtime_ns


def test_a_cached_check_reports_what_a_compiling_one_does(repo: Repo) -> None:
    """Each check after the first takes the desired state from the compile cache while
    the file and the host's observation stay as they were: its report in every format
    is the compiling check's, drift and pending changes included."""
    repo.ok("apply", FILE, "--yes")
    compiled = {fmt: repo.check(fmt, expect=0) for fmt in ("text", "json", "github", "junit")}
    written = cache_entry()
    for fmt, report in compiled.items():
        assert same_report(repo.check(fmt, expect=0), report)
    assert cache_entry() == written  # every one of them a hit
    hit = repo.netplan("check", FILE, python=("-X", "importtime"))
    imported = re.findall(r"^import time:.*\| +(\S+)$", hit.stderr, re.M)
    assert hit.returncode == 0 and "netplan.pipeline" in imported
    assert not {"pydantic", "yaml", "netplan.topology.model"} & set(imported)  # nor typer's

    subprocess.run(["ip", "-n", "db", "link", "set", "eth0", "mtu", "1280"], check=True)
    drifted = repo.check("json")
    assert cache_entry() != written  # the observation changed: compiled again
    written = cache_entry()
    assert same_report(repo.check("json"), drifted)
    assert cache_entry() == written
    assert differences(json.loads(drifted)) == {
        "link:db/eth0.mtu: desired 1500, observed 1280": ["drift"]}
    line, col = repo.position("db", "front")
    annotation = f"::error file={FILE},line={line},col={col},title=drift::host local: link:db/"
    assert annotation in repo.check("github")  # placed in the file, which a hit parses

    repo.file.write_text(TOPOLOGY + CACHE)  # the file changed: compiled again
    assert "pending: netns:cache" in repo.check()
    repo.ok("apply", FILE, "--yes")
    assert_mtu("db", 1500)
    repo.check(expect=0)
    repo.ok("destroy", FILE, "--yes")
    assert not list(Path("/run/netplan/cache").glob(f"*.{NAME}.entry"))  # destroy forgets


def same_report(one: str, other: str) -> bool:
    """Equal but for the times a JUnit report carries."""
    def untimed(text: str) -> str:
        return re.sub(r'(time|timestamp)="[^"]*"', "", text)

    return untimed(one) == untimed(other)


def test_saved_plans(repo: Repo) -> None:
    repo.ok("apply", FILE, "--yes")
    repo.file.write_text(TOPOLOGY + CACHE)
    assert repo.netplan("plan", FILE, "--detailed-exitcode").returncode == 2

    # A plan made, then the host changes: applying it is refused, nothing changes.
    repo.ok("plan", FILE, "--out", "plan.json")
    saved = json.loads((repo.root / "plan.json").read_text())
    assert saved["kind"] == "netplan-plan" and saved["hosts"]["local"]["steps"]
    subprocess.run(["ip", "-n", "web", "link", "set", "eth0", "mtu", "1300"], check=True)
    stale = repo.netplan("apply", "plan.json", "--yes")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert stale.stderr.splitlines() == [
        "error: host local: the saved plan plan.json is stale: the host changed since the plan "
        f"was made; nothing was changed (hint: re-run netplan plan {FILE} --out plan.json)"
    ]
    assert "cache" not in {n["name"] for n in ip_json("netns", "list")}
    assert_mtu("web", 1300)

    # A fresh plan applies exactly its steps; then there is nothing left to plan.
    repo.ok("plan", FILE, "--out", "plan.json")
    steps = len(json.loads((repo.root / "plan.json").read_text())["hosts"]["local"]["steps"])
    applied = json.loads(repo.ok("apply", "plan.json", "--yes", "--json"))
    assert applied["applied"] is True and applied["steps"] == steps
    assert applied["in_sync"] is False and applied["verified"] is True  # before, and now
    assert "cache" in {n["name"] for n in ip_json("netns", "list")}
    assert_mtu("web", 1500)
    assert repo.netplan("plan", FILE, "--detailed-exitcode").returncode == 0
    assert repo.check(expect=0).startswith("in sync")  # recorded as last-applied
    assert_second_plan_empty(repo)

    # A saved destroy plan removes everything, the record with it.
    repo.ok("plan", FILE, "--destroy", "--out", "destroy.json")
    repo.ok("apply", "destroy.json", "--yes")
    assert not {"web", "db", "cache"} & {n["name"] for n in ip_json("netns", "list")}
    assert not RECORD.exists()


def test_a_saved_plan_edited_by_hand_is_refused(repo: Repo) -> None:
    """A step changed in the file (a create made a delete, by text substitution) is not
    run: apply says so in one line and changes nothing."""
    repo.ok("apply", FILE, "--yes")
    repo.file.write_text(TOPOLOGY + CACHE)
    repo.ok("plan", FILE, "--out", "plan.json")
    saved = repo.root / "plan.json"
    text = saved.read_text()
    assert '"op": "create"' in text
    saved.write_text(text.replace('"op": "create"', '"op": "delete"', 1))
    before = snapshot()
    refused = repo.netplan("apply", "plan.json", "--yes")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stderr.splitlines() == [
        "error: plan.json: the plan file was changed after netplan plan wrote it (its content "
        "does not match its plan_digest); nothing was changed (hint: run netplan plan "
        f"{FILE} --out plan.json again)"
    ]
    assert_unchanged(before, snapshot())
    assert "cache" not in {n["name"] for n in ip_json("netns", "list")}
    repo.ok("plan", FILE, "--out", "plan.json")  # planned again: applied
    repo.ok("apply", "plan.json", "--yes")
    assert repo.netplan("plan", FILE, "--detailed-exitcode").returncode == 0


def nft_table() -> list[dict[str, Any]]:
    out = subprocess.run(["nft", "-j", "list", "table", "inet", TABLE], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    entries: list[dict[str, Any]] = json.loads(out)["nftables"]
    return entries


def link_local(netns: str, dev: str) -> bool:
    links = ip_json("-n", netns, "-6", "address", "show", "dev", dev)
    return any(a["local"].startswith("fe80:") for link in links for a in link["addr_info"])


def assert_mtu(netns: str, mtu: int) -> None:
    [link] = ip_json("-n", netns, "link", "show", "eth0")
    assert link["mtu"] == mtu


def assert_second_plan_empty(repo: Repo) -> None:
    planned = json.loads(repo.ok("plan", FILE, "--json"))
    assert planned["in_sync"] is True, planned


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a terminal")
@pytest.mark.parametrize(("option", "env"), [("", {}), ("--no-color", {}), ("", {"NO_COLOR": "1"})])
def test_colours_only_on_a_terminal_unless_turned_off(
    checkout: Repo, option: str, env: dict[str, str]
) -> None:
    command = f"{sys.executable} -m netplan {option} plan {FILE}"
    on_a_tty = subprocess.run(
        ["script", "-qec", command, "/dev/null"], cwd=checkout.root, capture_output=True,
        text=True, env={**os.environ, **env},
    )  # fmt: skip
    assert "netns web" in on_a_tty.stdout
    assert ("\x1b[" in on_a_tty.stdout) == (not option and not env)
