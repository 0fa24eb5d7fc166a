"""Networks without `subnet:` get one from Docker's default pools, as `docker network
create` does, and keep it when a network is added above them. Checked with `ip -j` and
ping, not netplan's observer; the sandbox has no docker0, so the first is 172.17.0.0/16,
unless the host reserves it as Docker's daemon would (an on-link route, a nameserver)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from netplan.agent.observe import observe
from tests.e2e.hostview import Run, inet, ip_json, ping, sh

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


VPN = ("ip link add rsv0 type veth peer name rsv1", "ip link set rsv1 up",
       "ip link set rsv0 up", "ip route add 172.17.0.0/16 dev rsv0")
"""A VPN's on-link route to 172.17.0.0/16 on a link of the host's (scope link)."""
ONE = "name: reserving\nnetworks:\n  front: {}\ncontainers:\n  web: {networks: [front]}\n"


def on_link_routes() -> list[Any]:
    return ip_json("route", "show", "dev", "rsv0")


def test_the_pools_skip_on_link_routes_and_nameservers_as_dockers_do(run: Run, tx: Path) -> None:
    """moby's InferReservedNetworks: the host's on-link routes and resolv.conf's
    nameservers are kept out of the pools; a network that has its subnet keeps it."""
    resolv_conf = Path("/etc/resolv.conf")  # this sandbox's own (an overlay of /etc)
    was = resolv_conf.read_bytes() if resolv_conf.exists() else None
    sh(*VPN)
    try:
        route = on_link_routes()
        assert [(r["dst"], r["scope"]) for r in route] == [("172.17.0.0/16", "link")]
        path = tx / "reserving.yaml"
        path.write_text(ONE)
        run("apply", path, "--yes", check=True)
        assert inet("", "br-front") == ["172.18.0.1/16"]
        assert inet("web", "eth0") == ["172.18.0.2/16"]
        assert ping("web", "172.18.0.1")
        assert on_link_routes() == route
        assert run("plan", path, "--detailed-exitcode").returncode == 0

        resolv_conf.unlink(missing_ok=True)
        resolv_conf.write_text("nameserver 172.18.0.10\n")
        path.write_text(ONE.replace("networks:\n", "networks:\n  new: {}\n", 1)
                        + "  cache: {networks: [new]}\n")
        run("apply", path, "--yes", check=True)
        assert inet("", "br-new") == ["172.19.0.1/16"]
        assert inet("", "br-front") == ["172.18.0.1/16"]  # never renumbered
        assert inet("cache", "eth0") == ["172.19.0.2/16"]
        assert on_link_routes() == route
        assert observe("reserving", reserved_asked=True).facts.reserved == (
            "172.17.0.0/16", "172.18.0.10/32")  # not br-front's nor br-new's routes
        assert run("plan", path, "--detailed-exitcode").returncode == 0
        assert run("check", path).returncode == 0
        run("destroy", path, "--yes", check=True)
        assert on_link_routes() == route
    finally:
        resolv_conf.unlink(missing_ok=True)
        if was is not None:
            resolv_conf.write_bytes(was)
        sh("ip link del rsv0")
