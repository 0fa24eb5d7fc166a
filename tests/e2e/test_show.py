"""`netplan show`: what the kernel has that a topology owns, found by its file or by its
name alone (`--name`, on every host the provider reaches); its output applied again
plans nothing, aliases and hostnames included."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.hostview import TOPOLOGIES, assert_unchanged, netns_names, netplan, snapshot

DEFAULT_BRIDGE = TOPOLOGIES / "default-bridge.yaml"


def test_show_by_file_and_by_name_alone() -> None:
    netplan("apply", DEFAULT_BRIDGE, "--yes", check=True)
    try:
        by_file = yaml.safe_load(netplan("show", DEFAULT_BRIDGE, check=True).stdout)
        by_name = yaml.safe_load(netplan("show", "--name", "default-bridge", check=True).stdout)
        assert by_name == by_file
        assert set(by_file["containers"]) == {"alpine1", "alpine2"} <= netns_names()
        assert by_file["networks"]["bridge"]["subnet"] == "172.17.0.0/16"
        shown = json.loads(netplan("show", "--name", "default-bridge", "--json", check=True).stdout)
        assert shown["topology"] == by_file
    finally:
        netplan("destroy", DEFAULT_BRIDGE, "--yes", check=True)
    after = netplan("show", "--name", "default-bridge")
    assert (after.returncode, after.stdout) == (1, "")
    assert after.stderr == ("error: topology 'default-bridge' has nothing on local: never "
                            "applied there, or destroyed (hint: check the name)\n")



ALIASES = {
    "version": 1,
    "name": "showaliases",
    "networks": {"back": {"subnet": "10.72.0.0/24"}, "front": {"subnet": "10.71.0.0/24"}},
    "containers": {
        "cache": {"networks": {"front": {}, "back": {"aliases": ["redis"]}}},
        "db": {"networks": {"back": {"aliases": ["database", "pg"]}}},
        "web": {"hostname": "www.example", "command": "sleep 3600",
                "networks": {"front": {"aliases": ["www", "site"]},
                             "back": {"aliases": ["api"]}}},
    },
}


def getent(netns: str, name: str) -> list[str]:
    """`address name aliases...` as the container's hosts file answers (`-s files`)."""
    found = subprocess.run(["ip", "netns", "exec", netns, "getent", "-s", "files", "hosts", name],
                           capture_output=True, text=True, check=True)
    return found.stdout.split()


@contextmanager
def applied_from(tmp_path: Path, topology: dict[str, Any]) -> Iterator[Path]:
    """The topology written to a file and applied; destroyed after, a second plan then
    empty and the host as it was before."""
    before = snapshot()
    path = tmp_path / f"{topology['name']}.yaml"
    path.write_text(yaml.safe_dump(topology, sort_keys=False))
    netplan("apply", path, "--yes", check=True)
    try:
        yield path
    finally:
        netplan("destroy", path, "--yes", check=True)
    assert netplan("plan", path, "--destroy", "--detailed-exitcode").returncode == 0
    assert_unchanged(before, snapshot())


def test_show_prints_aliases_and_its_output_plans_nothing(tmp_path: Path) -> None:
    with applied_from(tmp_path, ALIASES) as path:
        shown_text = netplan("show", path, check=True).stdout
        shown = yaml.safe_load(shown_text)["containers"]
        assert shown["web"]["hostname"] == "www.example"
        assert shown["web"]["networks"]["front"]["aliases"] == ["www", "site"]
        assert shown["web"]["networks"]["back"]["aliases"] == ["api"]
        assert shown["db"]["networks"]["back"]["aliases"] == ["database", "pg"]
        assert "aliases" not in shown["cache"]["networks"]["front"]
        assert shown["cache"]["networks"]["back"]["aliases"] == ["redis"]
        again = tmp_path / "shown.yaml"
        again.write_text(shown_text)
        netplan("validate", again, check=True)
        assert netplan("plan", again, "--detailed-exitcode").returncode == 0
        assert netplan("plan", path, "--detailed-exitcode").returncode == 0
        assert getent("db", "api") == ["10.72.0.4", "web", "api"]
        assert getent("db", "pg") == ["10.72.0.3", "db", "database", "pg"]
        assert getent("cache", "site") == ["10.71.0.3", "web", "www", "site"]
        assert getent("web", "redis") == ["10.72.0.2", "cache", "redis"]
        assert getent("web", "api") == ["10.72.0.4", "api"]  # its own line: no name


ORDER = {
    "version": 1,
    "name": "showorder",
    "networks": {"web": {"subnet": "10.73.0.0/24"}, "db": {"subnet": "10.74.0.0/24"}},
    "containers": {  # not in name order: the hosts files and nft rules follow this order
        "zed": {"networks": ["web", "db"], "publish": ["8093:80"]},
        "amy": {"networks": ["db", "web"]},
        "mid": {"networks": ["web"]},
    },
}


def test_show_keeps_the_order_of_containers_and_networks(tmp_path: Path) -> None:
    with applied_from(tmp_path, ORDER) as path:
        shown_text = netplan("show", path, check=True).stdout
        shown = yaml.safe_load(shown_text)
        assert list(shown["containers"]) == ["zed", "amy", "mid"]
        assert list(shown["networks"]) == ["web", "db"]
        assert shown["containers"]["zed"]["publish"] == ["8093:80/tcp"]
        hosts = Path("/etc/netns/mid/hosts").read_text().split()
        assert hosts.index("zed") < hosts.index("amy") < hosts.index("mid")  # an observer
        again = tmp_path / "shown.yaml"
        again.write_text(shown_text)
        assert netplan("plan", again, "--detailed-exitcode").returncode == 0
