"""Name resolution between containers, as a user sees it: topologies/names.yaml applied,
names resolved with getent and ping through `ip netns exec` (which mounts
/etc/netns/<ns>/hosts over /etc/hosts), kept current as containers come and go, a hand
edit found by `netplan check` and repaired, every file gone on destroy."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from tests.e2e.hostview import TOPOLOGIES, Run, etc_netns, ping

NAMES = TOPOLOGIES / "names.yaml"
CONTAINERS = ("web", "db", "cache")
"""The containers with a namespace of their own (`metrics` shares web's)."""


def getent(netns: str, name: str) -> subprocess.CompletedProcess[str]:
    """The hosts file's answer (`-s files`): a name it lacks is not then asked of the
    machine's DNS servers, which a container cannot reach (5 s each to time out) and
    which might know a name like `db`."""
    return subprocess.run(["ip", "netns", "exec", netns, "getent", "-s", "files", "hosts", name],
                          capture_output=True, text=True)


def resolves(netns: str, name: str) -> list[str]:
    """`address name aliases...` as getent prints it, or [] when it finds nothing."""
    found = getent(netns, name)
    assert found.returncode in (0, 2), found.stderr
    return found.stdout.split()


def hosts_changes(plan: dict[str, object]) -> dict[str, str]:
    """hosts-file key → action, from `netplan plan --json`."""
    changes = plan["hosts"]["local"]["changes"]  # type: ignore[index]
    return {c["key"]: c["action"] for c in changes if c["kind"] == "hosts-file"}


def with_queue(tmp_path: Path) -> Path:
    """names.yaml plus `queue` on backend, alias `mq`."""
    spec = yaml.safe_load(NAMES.read_text())
    spec["containers"]["queue"] = {"networks": {"backend": {"aliases": ["mq"]}}}
    path = tmp_path / "names.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


class TestApplied:
    """names.yaml applied once for these tests (class_topology); each leaves it in sync."""

    TOPOLOGY = NAMES

    def test_containers_resolve_the_containers_they_share_a_network_with(
        self, run: Run, applied: Path
    ) -> None:
        assert resolves("web", "db") == ["10.62.0.3", "db", "database"]
        assert resolves("web", "database") == ["10.62.0.3", "db", "database"]
        assert resolves("web", "redis") == ["10.61.0.3", "cache", "redis"]
        assert resolves("db", "web") == ["10.62.0.2", "web"]  # web's address on backend
        assert resolves("cache", "web") == ["10.61.0.2", "web"]  # ... and on frontend
        # itself on each network, as its peers see it there: the first network first
        assert resolves("web", "web") == ["10.61.0.2", "web", "10.62.0.2", "web"]
        assert getent("cache", "db").returncode == 2  # no network in common
        assert getent("db", "redis").returncode == 2
        assert ping("web", "db") and ping("web", "redis") and ping("db", "web")
        assert sorted(etc_netns()) == sorted([*CONTAINERS, *(f"{c}/hosts" for c in CONTAINERS)])

        assert run("plan", NAMES, "--detailed-exitcode").returncode == 0

    def test_the_sidecar_resolves_like_the_container_whose_namespace_it_shares(
        self, run: Run, applied: Path
    ) -> None:
        found = run("exec", NAMES, "metrics", "--", "getent", "hosts", "database")
        assert found.returncode == 0, found.stderr
        assert found.stdout.split() == ["10.62.0.3", "db", "database"]
        assert "metrics" not in etc_netns()

    def test_a_container_added_and_removed_changes_only_the_files_that_name_it(
        self, run: Run, applied: Path, tmp_path: Path
    ) -> None:
        grown = with_queue(tmp_path)

        planned = json.loads(run("plan", grown, "--json", check=True).stdout)
        assert hosts_changes(planned) == {
            "hosts:web": "update", "hosts:db": "update", "hosts:queue": "create"}
        shown = run("plan", grown, check=True).stdout
        assert "~ hosts file /etc/netns/web/hosts" in shown
        assert "hosts file /etc/netns/cache/hosts" not in shown

        run("apply", grown, "--yes", "--replace", check=True)  # NAMES still declares it
        assert resolves("web", "mq") == ["10.62.0.4", "queue", "mq"]
        assert resolves("queue", "database") == ["10.62.0.3", "db", "database"]
        assert getent("cache", "queue").returncode == 2
        assert run("plan", grown, "--detailed-exitcode").returncode == 0

        shrunk = json.loads(run("plan", NAMES, "--json", check=True).stdout)
        assert hosts_changes(shrunk) == {
            "hosts:web": "update", "hosts:db": "update", "hosts:queue": "delete"}
        run("apply", NAMES, "--yes", "--replace", check=True)  # and so does grown
        assert getent("web", "mq").returncode == 2
        assert "queue" not in etc_netns()
        assert run("plan", NAMES, "--detailed-exitcode").returncode == 0

    def test_a_hand_edit_is_drift_and_apply_repairs_it(self, run: Run, applied: Path) -> None:
        with open("/etc/netns/cache/hosts", "a") as hosts:
            hosts.write("203.0.113.9 db\n")
        assert resolves("cache", "db") == ["203.0.113.9", "db"]

        checked = run("check", NAMES)
        assert checked.returncode == 2
        assert "hosts:cache.digest" in checked.stdout
        assert "hosts:web" not in checked.stdout

        run("apply", NAMES, "--yes", check=True)
        assert getent("cache", "db").returncode == 2
        assert run("check", NAMES).returncode == 0
        assert run("plan", NAMES, "--detailed-exitcode").returncode == 0


def test_destroy_removes_every_hosts_file(run: Run, clean_host: None) -> None:
    before = etc_netns()
    run("apply", NAMES, "--yes", check=True)
    planned = run("plan", NAMES, "--destroy", check=True).stdout
    assert "- hosts file /etc/netns/db/hosts  (removed with netns db)" in planned

    run("destroy", NAMES, "--yes", check=True)
    assert etc_netns() == before
    assert run("plan", NAMES, "--destroy", "--detailed-exitcode").returncode == 0


def test_a_hosts_file_someone_else_wrote_is_a_conflict(run: Run, clean_host: None) -> None:
    before = etc_netns()
    theirs = Path("/etc/netns/db/hosts")
    theirs.parent.mkdir()
    theirs.write_text("10.0.0.1 mine\n")
    try:
        refused = run("apply", NAMES, "--yes")
        assert refused.returncode == 1
        assert ("hosts file /etc/netns/db/hosts already exists and is not managed by netplan"
                in refused.stderr)
        assert theirs.read_text() == "10.0.0.1 mine\n"
        assert sorted(etc_netns()) == ["db", "db/hosts"]
        assert run("check", NAMES).returncode == 2
    finally:
        theirs.unlink()
        theirs.parent.rmdir()
    assert etc_netns() == before


SHARING = {
    "name": "sharing",
    "networks": {"n": {"subnet": "10.71.0.0/24"}, "m": {"subnet": "10.72.0.0/24"}},
    "containers": {**{name: {"networks": ["n"]} for name in ("a", "b", "c")},
                   "x": {"networks": ["n"], "command": "sleep 600"},
                   "w": {"networks": ["m"]}},
}


def test_one_file_for_the_containers_on_the_same_networks_and_its_own_for_a_process(
    run: Run, clean_host: None, tmp_path: Path
) -> None:
    """a, b and c have one file (one inode, three links); x, whose process holds a
    mount of its file, has its own. b and x join m: b gets a file of its own, a and c
    keep theirs, and x's file is rewritten in place, so its running process finds w."""
    path = tmp_path / "sharing.yaml"
    path.write_text(yaml.safe_dump(SHARING))

    def stat(name: str) -> os.stat_result:
        return os.stat(f"/etc/netns/{name}/hosts")

    try:
        run("apply", path, "--yes", check=True)
        shared = stat("a")
        assert [(stat(n).st_ino, stat(n).st_nlink) for n in "bc"] == [(shared.st_ino, 3)] * 2
        assert stat("x").st_ino != shared.st_ino and stat("x").st_nlink == 1
        assert Path("/etc/netns/x/hosts").read_text() == Path("/etc/netns/a/hosts").read_text()
        process_file = stat("x").st_ino

        grown = {**SHARING, "containers": {**SHARING["containers"],  # type: ignore[dict-item]
                                           "b": {"networks": ["n", "m"]},
                                           "x": {"networks": ["n", "m"], "command": "sleep 600"}}}
        path.write_text(yaml.safe_dump(grown))
        run("apply", path, "--yes", check=True)
        assert [(stat(n).st_ino, stat(n).st_nlink) for n in "ac"] == [(shared.st_ino, 2)] * 2
        assert stat("b").st_ino != shared.st_ino
        assert stat("x").st_ino == process_file
        found = run("exec", path, "x", "--", "getent", "-s", "files", "hosts", "w")
        assert found.returncode == 0 and found.stdout.split()[1:] == ["w"], found
        assert found.stdout.startswith("10.72.0.")
        assert resolves("b", "w")[1:] == ["w"] and getent("a", "w").returncode == 2
        assert run("plan", path, "--detailed-exitcode").returncode == 0
    finally:
        run("destroy", path, "--yes")
