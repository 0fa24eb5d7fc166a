"""The host lock on a file of a temporary directory: held by one process at a time, saying
who holds it, waited for up to a timeout, and gone with a holder that is killed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from netplan.agent import lock

HOLDER = {"command": "apply", "topology": "lab", "pid": 1234, "user": "root",
          "controller": "ctl"}  # fmt: skip


@pytest.fixture
def lock_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "netplan" / "lock"
    monkeypatch.setattr(lock, "LOCK", path)
    yield path
    lock.release()


def holding(path: Path) -> subprocess.Popen[str]:
    """Another process that takes the lock and keeps it until killed."""
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from netplan.agent import lock
        lock.LOCK = Path({str(path)!r})
        lock.acquire({HOLDER!r}, 0)
        print("held", flush=True)
        time.sleep(600)
    """)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline() == "held\n"
    return child


def test_a_held_lock_is_refused_naming_its_holder(lock_file: Path) -> None:
    child = holding(lock_file)
    try:
        with pytest.raises(lock.Locked) as refused:
            lock.acquire({"command": "destroy"}, 0)
        message = refused.value.message
        assert message.startswith("locked by netplan apply (PID 1234, user root on ctl, since ")
        assert message.endswith(", topology 'lab')")
        with pytest.raises(lock.Locked):
            lock.acquire({"command": "destroy"}, 0.3)  # waits, then gives up
    finally:
        child.kill()
        child.wait()
    lock.acquire({"command": "destroy"}, 0)  # a killed holder holds nothing
    assert lock.held()


def test_taking_it_again_is_a_no_op_and_release_lets_others_in(lock_file: Path) -> None:
    lock.acquire(HOLDER, 0)
    lock.acquire(HOLDER, 0)
    lock.release()
    child = holding(lock_file)
    child.kill()
    child.wait()


def test_the_lab_lock_is_one_command_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab up` and `lab down` take the agent's kind of lock on their own file: a second
    one fails with one line naming the first, once its wait is over."""
    from providers import lab_lock
    from providers.lab_net import LabError

    monkeypatch.setattr(lab_lock, "LAB_LOCK", tmp_path / "lab.lock")
    with lab_lock.lab_locked("lab up"):
        with pytest.raises(LabError) as refused, lab_lock.lab_locked("lab down", 0):
            pass
        assert not lock.held()  # the host lock is another lock
    (line,) = refused.value.lines()
    assert line.startswith("the lab is locked by netplan lab up (PID ")
    assert line.endswith("; nothing was changed (hint: wait for it to finish, or pass "
                         "--lock-timeout SECONDS to wait longer)")  # fmt: skip
    with lab_lock.lab_locked("lab down", 0):  # let go when the first was done
        pass
