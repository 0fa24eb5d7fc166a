"""Kernel refusals become StepFailed: the step, the resource and one clear line."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from netplan.agent.api import StepFailed, execute
from netplan.agent.errors import explain
from netplan.agent.resources import ROOT, Address, Bridge, Netns, Route, Veth
from netplan.agent.rtnl import NetlinkError
from netplan.agent.state import Step
from tests.kernel.kernel_helpers import (
    BRIDGE_MAC,
    container,
    create,
    link_names,
    netns_names,
    network,
    owned,
    sh,
)


def test_creating_what_exists_names_the_step(topology: str) -> None:
    bridge = Bridge("nbr0", "front", mtu=1500, mac=BRIDGE_MAC)
    with pytest.raises(StepFailed) as failed:
        execute(topology, [Step("create", Netns("c0")), Step("create", bridge),
                           Step("create", bridge)])
    assert str(failed.value) == "step 3: cannot create bridge nbr0: already exists"
    assert (failed.value.step_index, failed.value.errno) == (2, errno.EEXIST)
    assert set(owned(topology)) == {"netns:c0", "link:/nbr0"}  # steps before it stay done


def test_a_namespace_someone_else_made_is_refused_and_untouched(topology: str) -> None:
    sh("ip netns add taken")
    try:
        with pytest.raises(StepFailed, match="cannot create netns taken: already exists"):
            create(topology, Netns("taken"))
        assert "taken" in netns_names()
        assert owned(topology) == {}
    finally:
        sh("ip netns del taken")


def test_unreachable_gateway(topology: str) -> None:
    with pytest.raises(StepFailed) as failed:
        create(topology, Netns("c0"), Route("c0", "default", "lo", "10.1.2.3"))
    assert failed.value.errno == errno.ENETUNREACH
    assert failed.value.reason.startswith("the gateway is not reachable through that link")


def test_veth_onto_a_missing_bridge(topology: str) -> None:
    veth = Veth("c0", "eth0", "nvc0", "nosuchbr", "c0", "front")
    with pytest.raises(StepFailed, match="cannot create veth c0/eth0: a link it needs does not"):
        create(topology, Netns("c0"), veth)


def test_deleting_an_address_that_is_not_there(topology: str) -> None:
    create(topology, *network())
    with pytest.raises(StepFailed, match="the address is not on that link"):
        execute(topology, [Step("delete", Address(ROOT, "nbr0", "10.9.9.9/24"))])


def test_a_half_made_bridge_is_removed(topology: str) -> None:
    """The marker is written after creation; if that fails, the bridge must not stay
    behind unmarked, where it would look foreign and block the retry."""
    too_long = topology + "x" * 300
    with pytest.raises(StepFailed) as failed:
        create(too_long, Bridge("nbr0", "front"))
    assert failed.value.errno == errno.ERANGE  # the marker was refused, not the creation
    assert "nbr0" not in link_names()


def test_a_bad_value_is_refused_before_the_kernel(topology: str) -> None:
    with pytest.raises(StepFailed, match="does not appear to be an IPv4 or IPv6"):
        create(topology, *network(), Address(ROOT, "nbr0", "300.1.1.1/24"))


def test_without_root_the_message_says_so() -> None:
    program = ("from netplan.agent.api import handle, PROTOCOL_VERSION as V;"
               "print(handle({'version': V, 'op': 'apply', 'topology': 'k', 'steps': [{'op':"
               " 'create', 'resource': {'kind': 'bridge', 'name': 'nbr9', 'network': 'n'}}]}))")
    out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          sys.executable, "-c", program],
                         check=True, capture_output=True, text=True, env=dict(os.environ)).stdout
    assert "cannot create bridge nbr9: operation not permitted (netplan must run as root)" in out


@pytest.mark.parametrize(("code", "extack", "line"), [
    (errno.EEXIST, "", "already exists"),
    (errno.EPERM, "", "operation not permitted (netplan must run as root)"),
    (errno.ENODEV, "", "a link it needs does not exist"),
    (errno.EINVAL, "MTU too small", "the kernel rejected a value as invalid (kernel: MTU too small)"
     ),
    (errno.ELOOP, "", "too many levels of symbolic links"),
])
def test_errno_to_words(code: int, extack: str, line: str) -> None:
    assert explain(NetlinkError(code, extack)) == line


def test_a_wrong_container_is_built_nowhere(topology: str) -> None:
    with pytest.raises(StepFailed):
        create(topology, *network(), *container("c0", bridge="nosuchbr"))
    assert "nvc0" not in link_names()
