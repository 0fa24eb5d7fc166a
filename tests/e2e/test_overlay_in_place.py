"""A one-host overlay's VXLAN device, as a user meets it: what the kernel changes in
place (learning, local address, underlay device) drifted with `ip link set … type
vxlan` is named by check and put back by apply as an update of the same device (its
ifindex), seen with `ip -j -d link`; what the kernel refuses (the VNI) is a replace
whose reason says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.hostview import Run, ip_json, sh

LOCAL, OTHER_LOCAL = "192.168.77.1", "192.168.77.9"


def overlay_topology(path: Path, **network: Any) -> Path:
    """One container on an overlay of the local host, whose underlay is ul0."""
    path.write_text(yaml.safe_dump({
        "name": "vx",
        "hosts": {"local": {"underlay": network.pop("underlay", "ul0")}},
        "networks": {"ov": {"driver": "overlay", "subnet": "10.88.0.0/24", **network}},
        "containers": {"web": {"networks": ["ov"]}},
    }))  # fmt: skip
    return path


@pytest.fixture
def applied(run: Run, tmp_path: Path) -> Iterator[Path]:
    """The overlay applied on underlays ul0 (two addresses) and ul1; destroyed after,
    and the underlays removed."""
    sh("ip link add ul0 type veth peer name ul0p",
       f"ip addr add {LOCAL}/24 dev ul0 && ip addr add {OTHER_LOCAL}/24 dev ul0",
       "ip link add ul1 type veth peer name ul1p && ip addr add 192.168.78.1/24 dev ul1",
       "ip link set ul0 up && ip link set ul0p up && ip link set ul1 up && ip link set ul1p up")
    path = overlay_topology(tmp_path / "vx.yaml")
    run("apply", path, "--yes", check=True)
    yield path
    run("destroy", path, "--yes", check=True)
    sh("ip link del ul0 && ip link del ul1")


def tunnel() -> dict[str, Any]:
    """The VXLAN device as `ip -j -d link` shows it: its index and settings."""
    [shown] = ip_json("-d", "link", "show", "dev", "vx-ov")
    data = shown["linkinfo"]["info_data"]
    return {"ifindex": shown["ifindex"], "id": data["id"], "local": data["local"],
            "link": data["link"], "port": data["port"], "learning": data["learning"],
            "proxy": data["proxy"]}  # fmt: skip


DRIFTS = [
    ("learning", "learning: desired False, observed True", "learning True → False"),
    (f"local {OTHER_LOCAL}", f"local: desired {LOCAL}, observed {OTHER_LOCAL}",
     f"local {OTHER_LOCAL} → {LOCAL}"),
    ("dev ul1", "dev: desired ul0, observed ul1", "dev ul1 → ul0"),
]


@pytest.mark.parametrize(("by_hand", "reported", "planned"), DRIFTS,
                         ids=[d[0].split()[0] for d in DRIFTS])  # fmt: skip
def test_vxlan_drift_is_named_and_repaired_in_place(
    run: Run, applied: Path, by_hand: str, reported: str, planned: str
) -> None:
    before = tunnel()
    assert before | {"ifindex": 0} == {"ifindex": 0, "id": 4096, "local": LOCAL, "link": "ul0",
                                       "port": 4789, "learning": False, "proxy": True}
    sh(f"ip link set vx-ov type vxlan {by_hand}")
    check = run("check", applied)
    assert check.returncode == 2, check.stdout + check.stderr
    assert f"host local: drift: link:/vx-ov.{reported}\n" in check.stdout
    repair = run("apply", applied, "--yes", check=True)
    assert f"  ~ vxlan vx-ov: {planned}\n" in repair.stdout
    assert "0 to replace" in repair.stdout and "-/+" not in repair.stdout
    assert tunnel() == before  # the same device, as it was
    assert run("check", applied).returncode == 0
    assert run("plan", applied, "--detailed-exitcode").returncode == 0


def test_a_new_local_address_in_the_file_changes_the_device_in_place(
    run: Run, applied: Path
) -> None:
    before = tunnel()
    overlay_topology(applied, underlay=OTHER_LOCAL)
    done = run("apply", applied, "--yes", check=True)
    assert f"  ~ vxlan vx-ov: local {LOCAL} → {OTHER_LOCAL}\n" in done.stdout
    assert tunnel() == before | {"local": OTHER_LOCAL}
    assert run("plan", applied, "--detailed-exitcode").returncode == 0


def test_a_new_vni_is_a_replace_that_says_the_kernel_refuses_it(run: Run, applied: Path) -> None:
    before = tunnel()
    overlay_topology(applied, vni=5000)
    done = run("apply", applied, "--yes", check=True)
    assert ("  -/+ vxlan vx-ov: vni 4096 → 5000  (cannot change vni 4096 → 5000 in place (the "
            "kernel refuses to change a VXLAN device's VNI): delete and recreate)\n") in done.stdout
    after = tunnel()
    assert after["id"] == 5000 and after["ifindex"] != before["ifindex"]
    assert run("plan", applied, "--detailed-exitcode").returncode == 0
