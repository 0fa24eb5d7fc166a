"""Networks without `subnet:` get one from Docker's default pools, as `docker network
create` does, and keep it when a network is added above them. Checked with `ip -j` and
ping, not netplan's observer; the sandbox has no docker0, so the first is 172.17.0.0/16."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.hostview import Run, inet, ip_json, ping

pytestmark = pytest.mark.usefixtures("clean_host")

POOLED = """\
name: pooled
networks:
  front: {}
  back: {driver: bridge}
containers:
  web: {networks: [front, back]}
  db: {networks: [back]}
"""


def test_subnet_less_bridges_take_the_first_free_pools_and_keep_them(run: Run, tx: Path) -> None:
    path = tx / "pooled.yaml"
    path.write_text(POOLED)
    run("apply", path, "--yes", check=True)
    assert inet("", "br-front") == ["172.17.0.1/16"]
    assert inet("", "br-back") == ["172.18.0.1/16"]
    assert inet("web", "eth0") == ["172.17.0.2/16"]
    assert inet("web", "eth1") == ["172.18.0.2/16"]
    assert inet("db", "eth0") == ["172.18.0.3/16"]
    assert ping("db", "172.18.0.2")
    web = ip_json("-n", "web", "address")

    path.write_text(POOLED.replace("networks:\n", "networks:\n  new: {}\n", 1)
                    + "  cache: {networks: [new]}\n")
    run("apply", path, "--yes", check=True)
    assert inet("", "br-front") == ["172.17.0.1/16"]
    assert inet("", "br-back") == ["172.18.0.1/16"]
    assert inet("", "br-new") == ["172.19.0.1/16"]
    assert inet("cache", "eth0") == ["172.19.0.2/16"]
    assert inet("db", "eth0") == ["172.18.0.3/16"]
    assert ip_json("-n", "web", "address") == web
    assert ping("web", "172.18.0.3")
    assert run("plan", path, "--detailed-exitcode").returncode == 0

    shown = run("show", path, check=True)
    assert "subnet: 172.19.0.0/16" in shown.stdout, shown.stdout
    (tx / "shown.yaml").write_text(shown.stdout)
    assert run("plan", tx / "shown.yaml", "--detailed-exitcode").returncode == 0
