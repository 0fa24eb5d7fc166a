"""Published ports in Docker's form: text in, mapping (or the problem with it) out."""

from __future__ import annotations

import re
import subprocess
import sys
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from netplan.firewall.ports import PortMapping

LOCALHOST = IPv4Address("127.0.0.1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8080:80/tcp", PortMapping(8080, "tcp", 80)),
        ("9000:9000", PortMapping(9000, "tcp", 9000)),
        ("127.0.0.1:5353:53/udp", PortMapping(5353, "udp", 53, LOCALHOST)),
        ("0.0.0.0:80:8080", PortMapping(80, "tcp", 8080)),
        ("1:65535/sctp", PortMapping(1, "sctp", 65535)),
    ],
)
def test_good_forms(text: str, expected: PortMapping) -> None:
    assert PortMapping.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("80", "'80' is not a published port like 8080:80/tcp"),
        ("[::1]:80:80", "is not a published port like"),
        ("0:80", "host port 0 is out of range 1-65535"),
        ("80:65536", "container port 65536 is out of range 1-65535"),
        ("80:80/icmp", "unknown protocol 'icmp'"),
        ("80:80/TCP", "unknown protocol 'TCP'"),
        ("http:80", "the host port is 'http', not a number"),
        ("127.0.0.1::80", "the host port is nothing, not a number"),
        ("8000-8010:8000-8010", "port ranges are not supported"),
        ("localhost:80:80", "'localhost' is not an IPv4 address of the host"),
    ],
)
def test_bad_forms(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        PortMapping.parse(text)


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ("8080:80", "8080:81", True),
        ("8080:80", "127.0.0.1:8080:80", True),
        ("127.0.0.1:8080:80", "10.0.0.1:8080:80", False),
        ("8080:80/tcp", "8080:80/udp", False),
        ("8080:80", "8081:80", False),
    ],
)
def test_overlaps(a: str, b: str, overlap: bool) -> None:
    assert PortMapping.parse(a).overlaps(PortMapping.parse(b)) is overlap
    assert PortMapping.parse(b).overlaps(PortMapping.parse(a)) is overlap


def test_where_a_mapping_is_reachable() -> None:
    anywhere, local, one = (PortMapping.parse(t) for t in
                            ("80:80", "127.0.0.1:80:80", "192.0.2.1:80:80"))
    assert (anywhere.from_outside, anywhere.via_localhost) == (True, True)
    assert (local.from_outside, local.via_localhost) == (False, True)
    assert (one.from_outside, one.via_localhost) == (True, False)
    assert str(local) == "127.0.0.1:80:80/tcp"


def test_publish_in_host_mode_is_a_warning_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "name: t\ncontainers:\n  h:\n    network_mode: host\n    publish: ['80:80']\n"
    )
    done = subprocess.run([sys.executable, "-m", "netplan", "validate", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stderr == (
        f"warning: {path}:5:5: containers.h.publish: published ports are discarded in "
        "network_mode 'host', as Docker does (hint: the container uses the host's ports "
        "directly: remove `publish:`)\n"
    )
