"""Two topologies with overlays on the same lab hosts: the second one's default VNI skips
the first one's (the kernel refuses two VXLAN devices with one VNI on one UDP port), and
a `vni:` another topology's device has is refused at plan time, naming that device and
its topology, with nothing changed on any host. Checked with `ip -j -d link` and `ping`
from inside the hosts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from providers.lab import Lab
from tests.e2e.hostview import netplan
from tests.multihost.labview import links, netns_names, ping


def overlay(path: Path, name: str, index: int, **network: Any) -> Path:
    """Topology `name`: overlay `ov<index>` on 10.9<index>.0.0/24 with one container on
    each host, `<name>a` on hostA and `<name>b` on hostB."""
    topology = {
        "name": name,
        "hosts": ["hostA", "hostB"],
        "networks": {f"ov{index}": {"driver": "overlay", "subnet": f"10.9{index}.0.0/24",
                                    **network}},
        "containers": {f"{name}{host[-1].lower()}": {"host": host, "networks": [f"ov{index}"]}
                       for host in ("hostA", "hostB")},
    }
    path.write_text(yaml.safe_dump(topology, sort_keys=False))
    return path


def vnis(lab: Lab, host: str) -> dict[str, int]:
    """Every VXLAN device of the host and its VNI."""
    return {name: link["linkinfo"]["info_data"]["id"] for name, link in links(lab, host).items()
            if link.get("linkinfo", {}).get("info_kind") == "vxlan"}


def in_sync(topology: Path) -> bool:
    return netplan("plan", topology, "-p", "lab", "--detailed-exitcode").returncode == 0


def test_a_second_topologys_overlay_gets_a_vni_of_its_own(lab: Lab, tmp_path: Path) -> None:
    first = overlay(tmp_path / "first.yaml", "first", 1)
    second = overlay(tmp_path / "second.yaml", "second", 2)
    netplan("apply", first, "-p", "lab", "--yes", check=True)
    netplan("apply", second, "-p", "lab", "--yes", check=True)
    for host in ("hostA", "hostB"):
        assert vnis(lab, host) == {"vx-ov1": 4096, "vx-ov2": 4097}
    assert ping(lab, "hostA", "firsta", "10.91.0.2") and ping(lab, "hostA", "seconda", "10.92.0.2")
    assert in_sync(first) and in_sync(second)

    third = overlay(tmp_path / "third.yaml", "third", 3, vni=4097)
    for command in (("plan",), ("apply", "--yes")):
        refused = netplan(*command, third, "-p", "lab")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        lines = [line for line in refused.stderr.splitlines() if "vx-ov2" in line]
        assert len(lines) == 2  # one per host, each placed at the file's `vni:`
        for line, host in zip(lines, ("hostA", "hostB"), strict=True):
            assert line.startswith(f"error: {third}:9:10: networks.ov3.vni: overlay 'ov3' "
                                   "needs VNI 4097 on UDP port 4789, but VXLAN device vx-ov2 "
                                   f"on host '{host}' has it already and belongs to netplan "
                                   "topology 'second' (hint: pick another `vni:`")
    for host in ("hostA", "hostB"):
        assert vnis(lab, host) == {"vx-ov1": 4096, "vx-ov2": 4097}  # nothing changed
        assert "br-ov3" not in links(lab, host)
        assert not {"thirda", "thirdb"} & netns_names(lab, host)

    for topology in (second, first):
        netplan("destroy", topology, "-p", "lab", "--yes", check=True)
        assert netplan("plan", topology, "-p", "lab", "--destroy",
                       "--detailed-exitcode").returncode == 0
