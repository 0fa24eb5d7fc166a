"""Stop signals, in-process (netplan/interrupt.py, rollback.cancel_on_interrupt, the
serving agent's cancel line): each is sent to this process with signal.raise_signal."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import pytest

from netplan.agent import transaction
from netplan.agent.__main__ import Requests, _took_cancel
from netplan.interrupt import Stopped, guarded, held
from netplan.rollback import cancel_on_interrupt

pytestmark = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="only the main thread takes signals",
)


@pytest.fixture(autouse=True)
def fresh_session() -> Iterator[None]:
    yield
    transaction.end_session()


def seen(stop: Stopped) -> tuple[str, bool, bool]:
    return stop.why, stop.changed, stop.at_once


def test_before_the_steps_a_stop_raises_and_nothing_is_changed() -> None:
    with pytest.raises(Stopped) as raised, guarded():
        signal.raise_signal(signal.SIGTERM)
    assert seen(raised.value) == ("SIGTERM", False, False)
    assert raised.value.lines() == ["interrupted (SIGTERM) before any change: nothing was changed"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_held_stop_waits_and_a_second_one_cuts_short() -> None:
    woken: list[bool] = []
    steps = held(lambda: woken.append(True), sends_steps=True)
    with pytest.raises(Stopped) as raised, guarded(), steps as stop:
        signal.raise_signal(signal.SIGHUP)
        assert stop.signum == signal.SIGHUP and woken == [True]
        signal.raise_signal(signal.SIGINT)
    assert seen(raised.value) == ("Ctrl-C", True, True)


def test_once_the_steps_were_sent_a_stop_says_so() -> None:
    with pytest.raises(Stopped) as raised, guarded():
        with held(sends_steps=True):
            pass
        signal.raise_signal(signal.SIGINT)
    assert seen(raised.value) == ("Ctrl-C", True, False)


def test_an_ignored_signal_stays_ignored() -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with guarded():
            signal.raise_signal(signal.SIGHUP)
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


class Connection:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    def cancel(self, reason: str) -> None:
        self.reasons.append(reason)


def test_the_first_stop_cancels_every_host_and_is_raised_once_they_answered() -> None:
    hosts = {"a": Connection(), "b": Connection()}
    answered = False
    with pytest.raises(Stopped) as raised, cancel_on_interrupt(hosts):  # type: ignore[arg-type]
        signal.raise_signal(signal.SIGTERM)
        answered = True
    assert answered and seen(raised.value) == ("SIGTERM", True, False)
    assert [c.reasons for c in hosts.values()] == [["SIGTERM"], ["SIGTERM"]]


@pytest.fixture
def requests() -> Iterator[tuple[Requests, int]]:
    """The serving agent's stdin, and the controller's end of it (left open)."""
    read, write = os.pipe()
    yield Requests(read), write
    os.close(read)
    os.close(write)


def test_a_cancel_read_before_the_apply_stops_it(requests: tuple[Requests, int]) -> None:
    """The controller sent the cancel before the apply request: the agent's loop reads
    it first, and the apply stops before its first step."""
    stdin, controller = requests
    os.write(controller, b'{"op": "cancel", "reason": "SIGTERM"}\n{"op": "apply"}\n')
    assert _took_cancel(stdin.next_line(1.0) or b"")
    assert stdin.next_line(1.0) == b'{"op": "apply"}\n'
    assert stdin.stop_reason() == "cancelled by the controller (SIGTERM)"


@pytest.mark.parametrize(
    ("line", "reason"),
    [(b'{"op": "cancel"}\n', "Ctrl-C"),
     (b'{"op": "cancel", "reason": "SIGHUP"}\n', "SIGHUP"),
     (b'{"op": "cancel", "reason": "\\u001b[2J"}\n', "Ctrl-C"),
     (b'{"op": "cancel", "reason": 7}\n', "Ctrl-C")],
)  # fmt: skip
def test_a_cancel_between_steps_names_its_signal(
    requests: tuple[Requests, int], line: bytes, reason: str
) -> None:
    stdin, controller = requests
    os.write(controller, line)
    assert stdin.stop_reason() == f"cancelled by the controller ({reason})"
    assert stdin.pending == b""
    assert stdin.stop_reason() == f"cancelled by the controller ({reason})"
