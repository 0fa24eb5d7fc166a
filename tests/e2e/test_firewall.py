"""The firewall as a user sees it: published ports, masquerade, isolation between bridges,
icc and internal networks, checked with curl, ping, `nft -j` and sysctl; drift in the
table or the sysctls found by `netplan check` and repaired; other tables untouched."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.hostview import (
    TOPOLOGIES,
    Run,
    assert_drift_repaired,
    assert_unchanged,
    ip_json,
    sh,
    snapshot,
)

PUBLISHED_WEB = TOPOLOGIES / "published-web.yaml"
HOST = "192.0.2.1"
"""The host's address towards `outside`, a namespace standing for another machine."""
OUTSIDE = "192.0.2.2"


def in_netns(netns: str, *command: str) -> list[str]:
    return ["ip", "netns", "exec", netns, *command] if netns else list(command)


def http_ok(url: str, netns: str = "") -> bool:
    """curl gets a 200 from `url` (from inside `netns`, or the host)."""
    done = subprocess.run(
        in_netns(netns, "curl", "-s", "-m", "3", "-o", "/dev/null", "-w", "%{http_code}", url),
        capture_output=True, text=True,
    )
    return done.stdout == "200"


def loss(netns: str, address: str) -> int:
    """Percent of 3 pings from `netns` to `address` that were lost."""
    done = subprocess.run(
        in_netns(netns, "ping", "-c", "3", "-i", "0.2", "-W", "1", address),
        capture_output=True, text=True,
    )
    found = re.search(r"(\d+)% packet loss", done.stdout)
    return int(found.group(1)) if found else 100  # "Network is unreachable": nothing sent


def nft_table(family: str, topology: str) -> list[dict[str, Any]]:
    out = subprocess.run(["nft", "-j", "list", "table", family, f"netplan_{topology}"],
                         capture_output=True, text=True, check=True).stdout
    return [item["rule"] for item in json.loads(out)["nftables"] if "rule" in item]


def sysctl(name: str) -> str:
    return subprocess.run(["sysctl", "-n", name], capture_output=True, text=True,
                          check=True).stdout.strip()


@contextmanager
def http_server(netns: str, log: Path | None = None, port: int = 80,
                bind: str = "0.0.0.0") -> Iterator[None]:
    """`python3 -m http.server` in `netns` (or on the host) until the block ends (then
    stopped by its PID)."""
    with (log.open("w") if log else open("/dev/null", "w")) as out:
        server = subprocess.Popen(
            in_netns(netns, "python3", "-m", "http.server", str(port), "--bind", bind),
            stdout=out, stderr=out,
        )
        try:
            deadline = time.monotonic() + 10
            local = "127.0.0.1" if bind == "0.0.0.0" else bind
            while not http_ok(f"http://{local}:{port}/", netns):
                assert time.monotonic() < deadline, f"the web server in {netns} did not start"
                time.sleep(0.1)
            yield
        finally:
            server.terminate()
            server.wait(timeout=10)


@pytest.fixture
def outside(clean_host: None) -> Iterator[None]:
    """Another machine: a namespace on a veth to the host, its default route via the host."""
    sh(
        "ip netns add outside",
        "ip link add out0 type veth peer name eth0 netns outside",
        "sysctl -qw net.ipv6.conf.out0.disable_ipv6=1",  # no DAD: the host settles at once
        "ip netns exec outside sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1",
        f"ip addr add {HOST}/24 dev out0",
        "ip link set out0 up",
        f"ip -n outside addr add {OUTSIDE}/24 dev eth0",
        "ip -n outside link set eth0 up",
        "ip -n outside link set lo up",
        f"ip -n outside route add default via {HOST}",
    )
    yield
    sh("ip link del out0", "ip netns del outside")


@pytest.fixture
def foreign_tables(clean_host: None) -> Iterator[None]:
    """Someone else's tables and chains, NAT included, and one whose name looks like ours."""
    sh(
        "nft add table ip foreign",
        "nft 'add chain ip foreign forward { type filter hook forward priority 0; }'",
        "nft add rule ip foreign forward iifname lo counter accept",
        "nft 'add chain ip foreign post { type nat hook postrouting priority 100; }'",
        "nft add rule ip foreign post ip saddr 198.51.100.0/24 masquerade",
        "nft add table inet netplan_lookalike",
    )
    yield
    sh("nft delete table ip foreign", "nft delete table inet netplan_lookalike")


def test_published_web_server(run: Run, outside: None, foreign_tables: None) -> None:
    before = snapshot()
    applied = run("apply", PUBLISHED_WEB, "--yes", check=True)
    assert "+ nft table inet netplan_published-web" in applied.stdout

    dnat = [r["expr"][-1]["dnat"] for r in nft_table("inet", "published-web")
            if "dnat" in r["expr"][-1]]
    assert {"family": "ip", "addr": "172.28.0.2", "port": 80} in dnat
    assert sysctl("net.ipv4.ip_forward") == "1"
    assert sysctl("net.ipv4.conf.br-frontend.route_localnet") == "1"

    # The web container runs `python3 -m http.server 80` itself (its `command:`).
    deadline = time.monotonic() + 10
    while not http_ok("http://172.28.0.2:80/", "web"):
        assert time.monotonic() < deadline, "the web container's server did not start"
        time.sleep(0.1)
    assert http_ok("http://127.0.0.1:8080/")  # the host, through localhost
    assert http_ok("http://127.0.0.1:8081/")  # bound to localhost
    assert http_ok(f"http://{HOST}:8080/")  # the host, through its own address
    assert http_ok(f"http://{HOST}:8080/", "outside")  # from another machine
    assert not http_ok(f"http://{HOST}:8081/", "outside")  # only on localhost
    assert http_ok("http://172.29.0.1:8080/", "client")  # another bridge, via the host
    assert http_ok(f"http://{HOST}:8080/", "client")
    assert not http_ok("http://172.28.0.2:80/", "client")  # isolated: not directly
    assert '"GET / HTTP/1.1" 200' in run("logs", PUBLISHED_WEB, "web", check=True).stdout

    assert "Nothing to apply" in run("apply", PUBLISHED_WEB, "--yes", check=True).stdout
    run("destroy", PUBLISHED_WEB, "--yes", check=True)
    assert run("plan", PUBLISHED_WEB, "--destroy", "--detailed-exitcode").returncode == 0
    assert_unchanged(before, snapshot())  # the foreign tables and chains included


def test_publishing_on_localhost_does_not_open_the_hosts_localhost(
    run: Run, clean_host: None
) -> None:
    """route_localnet on the bridge must not let its containers reach services the host
    keeps on 127.0.0.0/8 (CVE-2020-8558): the web container routes 127.0.0.2 to its
    gateway, and gets nothing."""
    run("apply", PUBLISHED_WEB, "--yes", check=True)
    sh(
        "ip netns exec web sysctl -qw net.ipv4.conf.all.route_localnet=1",
        "ip -n web rule add pref 10 lookup local",
        "ip -n web rule del pref 0 lookup local",
        "ip -n web rule add to 127.0.0.2 lookup 100 pref 5",
        "ip -n web route add 127.0.0.2 via 172.28.0.1 dev eth0 table 100",
    )
    with http_server("", port=9999, bind="127.0.0.2"):
        assert not http_ok("http://127.0.0.2:9999/", "web")
        sh("nft flush chain inet netplan_published-web input")  # the control: without it...
        assert http_ok("http://127.0.0.2:9999/", "web")
        run("apply", PUBLISHED_WEB, "--yes", check=True)
        assert not http_ok("http://127.0.0.2:9999/", "web")
    assert run("check", PUBLISHED_WEB).returncode == 0


def test_a_host_port_taken_by_another_topology_or_a_process_is_refused(
    run: Run, clean_host: None, tmp_path: Path
) -> None:
    """Docker's "port is already allocated": a second topology publishing a port the first
    publishes, or one a process of the host listens on, is refused, one line per port,
    and nothing changes (its table is not made); `check` shows the same conflicts."""
    run("apply", PUBLISHED_WEB, "--yes", check=True)
    other = tmp_path / "other.yaml"
    other.write_text("name: other-ports\nnetworks:\n  n: {subnet: 10.213.9.0/24}\n"
                     "containers:\n  api:\n    networks: [n]\n"
                     '    publish: ["127.0.0.1:8080:80", "8081:81", "9099:99", "9100:100"]\n')
    web = "which netplan topology 'published-web' publishes; nothing was changed (hint: use " \
          "another host port or host address, or take the port out of topology 'published-web' " \
          "first)"
    with http_server("", port=9099, bind="127.0.0.1"):
        before = snapshot()
        refused = run("apply", other, "--yes")
        assert refused.returncode == 1
        assert refused.stderr.splitlines() == [
            "error: host local: published port 127.0.0.1:8080:80/tcp of container 'api' clashes "
            f"with host port 0.0.0.0:8080/tcp, {web}",
            "error: host local: published port 8081:81/tcp of container 'api' clashes with host "
            f"port 127.0.0.1:8081/tcp, {web}",
            "error: host local: published port 9099:99/tcp of container 'api' clashes with host "
            "port 127.0.0.1:9099/tcp, which a process of the host listens on; nothing was "
            "changed (hint: use another host port or host address, or stop the process that "
            "`ss -lntp 'sport = :9099'` shows)",
        ]
        assert_unchanged(before, snapshot())  # `nft -j list ruleset` included
        checked = run("check", other)
        assert checked.returncode == 2
        assert ("host local: conflict: published port 9099:99/tcp of container 'api' clashes "
                "with host port 127.0.0.1:9099/tcp, which a process of the host listens on"
                in checked.stdout)
        assert "Nothing to apply" in run("apply", PUBLISHED_WEB, "--yes", check=True).stdout


def test_a_port_published_on_an_ip_the_host_lacks_is_refused(
    run: Run, outside: None, tx: Path
) -> None:
    """Docker's "cannot assign requested address": a port bound to an IP no link of the
    host has is a conflict; plan, apply and check say so in one line and nothing changes.
    Bound to the host's address towards `outside`, or to the gateway the bridge is about
    to get, it is applied and reachable."""
    path = tx / "bound.yaml"

    def publishing(*ports: str) -> None:
        path.write_text(yaml.safe_dump({
            "name": "bound-ports", "networks": {"n": {"subnet": "10.213.8.0/24"}},
            "containers": {"web": {
                "networks": ["n"], "publish": list(ports),
                "command": ["python3", "-m", "http.server", "80", "--directory", "/usr/share/doc"],
            }}}))  # fmt: skip

    publishing("192.0.2.99:8090:80")
    refusal = (
        "error: host local: published port 192.0.2.99:8090:80/tcp of container 'web' is bound "
        "to 192.0.2.99, which is not an address of host local; nothing was changed (hint: use "
        "an address of host local (`ip -br addr` lists them), or leave the IP out to publish "
        "on all of them)")
    before = snapshot()
    for command in (["plan", path, "--out", tx / "plan.json"], ["apply", path, "--yes"]):
        refused = run(*command)
        assert (refused.returncode, refused.stderr.splitlines()) == (1, [refusal]), refused.stderr
    assert not (tx / "plan.json").exists()
    checked = run("check", path)
    assert checked.returncode == 2
    assert ("host local: conflict: published port 192.0.2.99:8090:80/tcp of container 'web' "
            "is bound to 192.0.2.99, which is not an address of host local" in checked.stdout)
    assert_unchanged(before, snapshot())  # `ip -j addr` and `nft -j list ruleset` included

    publishing(f"{HOST}:8090:80", "10.213.8.1:8091:80")
    run("apply", path, "--yes", check=True)
    deadline = time.monotonic() + 10
    while not http_ok("http://10.213.8.2:80/", "web"):
        assert time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.1)
    assert http_ok(f"http://{HOST}:8090/", "outside")  # from another machine
    assert http_ok(f"http://{HOST}:8090/")  # from the host itself
    assert http_ok("http://10.213.8.1:8091/")  # the bridge's gateway address
    assert not http_ok("http://127.0.0.1:8090/")  # bound to HOST only
    assert run("plan", path, "--detailed-exitcode").returncode == 0


def test_default_bridge_masquerades_to_the_outside(
    run: Run, outside: None, tmp_path: Path
) -> None:
    path = TOPOLOGIES / "default-bridge.yaml"
    run("apply", path, "--yes", check=True)
    [rule] = [r for r in nft_table("inet", "default-bridge") if r["chain"] == "postrouting"]
    assert "masquerade" in rule["expr"][-1]
    log = tmp_path / "server.log"
    with http_server("outside", log):
        assert http_ok(f"http://{OUTSIDE}:80/", "alpine1")
    clients = [line.split()[0] for line in log.read_text().splitlines() if '"GET / ' in line]
    assert clients[-1] == HOST  # seen as the host, not as 172.17.0.2 (the first: readiness)
    assert run("check", path).returncode == 0


def test_bridges_are_isolated_and_icc_off_isolates_within_one(run: Run, clean_host: None) -> None:
    path = TOPOLOGIES / "isolated-bridges.yaml"
    run("apply", path, "--yes", check=True)
    assert loss("blue1", "10.81.0.3") == 0  # same bridge
    assert loss("blue1", "10.82.0.2") == 100  # blue → green
    assert loss("green1", "10.81.0.2") == 100  # green → blue
    assert loss("quiet1", "10.83.0.3") == 100  # icc: false
    assert loss("quiet1", "10.83.0.1") == 0  # its gateway still answers
    assert len(nft_table("bridge", "isolated-bridges")) == 1
    assert "Nothing to apply" in run("apply", path, "--yes", check=True).stdout


def test_a_dormant_table_is_drift_and_apply_wakes_it(run: Run, clean_host: None) -> None:
    """nft 1.0.6 cannot print a dormant table of this name as JSON (its listing ends after
    `"flags": `): every command used to end in an internal error. The table keeps its
    rules and evaluates none: the bridges reach each other until apply wakes it."""
    path = TOPOLOGIES / "isolated-bridges.yaml"
    name = "netplan_isolated-bridges"
    run("apply", path, "--yes", check=True)
    sh(f"nft add table inet {name} '{{ flags dormant; }}'")
    listed = subprocess.run(["nft", "list", "table", "inet", name],
                            capture_output=True, text=True, check=True).stdout
    assert "\tflags dormant\n" in listed
    assert loss("blue1", "10.82.0.2") == 0  # blue → green: nothing isolates them
    drift = run("check", path)
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert re.search(rf"drift: nft:inet/{name}\.rules: desired (\d+) lines #\w+, observed "
                     r"(\d+) lines", drift.stdout), drift.stdout
    assert "internal error" not in drift.stderr
    run("apply", path, "--yes", check=True)
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True,
                            check=True).stdout
    assert f"table inet {name}\n" in tables
    ruleset = json.loads(subprocess.run(["nft", "-j", "list", "ruleset"], capture_output=True,
                                        text=True, check=True).stdout)["nftables"]
    [ours] = [item["table"] for item in ruleset
              if item.get("table", {}).get("name") == name and item["table"]["family"] == "inet"]
    assert "flags" not in ours
    assert loss("blue1", "10.82.0.2") == 100
    assert run("plan", path, "--detailed-exitcode").returncode == 0


def test_internal_network_has_no_way_in_or_out(run: Run, outside: None) -> None:
    path = TOPOLOGIES / "internal-network.yaml"
    run("apply", path, "--yes", check=True)
    sh(f"ip -n outside route add 10.92.0.0/24 via {HOST}")  # a way in, if one were allowed
    assert ip_json("-n", "db", "route", "show", "default") == []
    [default] = ip_json("-n", "app", "route", "show", "default")
    assert (default["dev"], default["gateway"]) == ("eth1", "10.91.0.1")
    assert loss("app", "10.92.0.2") == 0  # inside the internal network
    assert loss("app", OUTSIDE) == 0  # out through public
    assert loss("db", OUTSIDE) == 100  # no way out
    assert loss("outside", "10.92.0.2") == 100  # no way in
    assert run("check", path).returncode == 0


NAME = "netplan_published-web"
RULES = rf"nft:inet/{NAME}\.rules: desired 11 lines #\w+, observed"
DRIFTS = [
    (f"nft flush chain inet {NAME} prerouting", rf"{RULES} 10 lines"),
    (f"nft flush table inet {NAME}", rf"{RULES} 0 lines"),
    (f"nft delete table inet {NAME}", rf"nft:inet/{NAME}: desired present, observed missing\n"
     rf".*sysctl:net\.ipv4\.ip_forward: desired present, not observed: read only while "
     rf"nft:inet/{NAME} exists"),
    (f"nft add rule inet {NAME} forward drop", rf"{RULES} 12 lines"),
    (f"nft 'chain inet {NAME} forward {{ policy drop; }}'",
     rf"nft:inet/{NAME}\.chains: desired 5 lines #(\w+), observed 5 lines #(?!\1)"),
    (
        "sysctl -w net.ipv4.ip_forward=0",
        r"sysctl:net\.ipv4\.ip_forward\.value: desired 1, observed 0",
    ),
    (
        "sysctl -w net.ipv4.conf.br-frontend.route_localnet=0",
        r"sysctl:net\.ipv4\.conf\.br-frontend\.route_localnet: desired present, observed missing",
    ),
]


class TestFirewallDrift:
    """Each change on published-web.yaml, applied once for all of them (class_topology):
    each is found, named and repaired, and leaves the topology in sync for the next."""

    TOPOLOGY = PUBLISHED_WEB

    @pytest.mark.parametrize(("change", "reported"), DRIFTS, ids=[d[0][:45] for d in DRIFTS])
    def test_firewall_drift_is_detected_named_and_repaired(
        self, run: Run, applied: Path, change: str, reported: str
    ) -> None:
        assert_drift_repaired(run, applied, change, reported)
        assert sysctl("net.ipv4.ip_forward") == "1"
