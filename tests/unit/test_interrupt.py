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
from netplan.interrupt import STOP_SIGNALS, Stopped, exiting, guarded, held, recording, release
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


@pytest.fixture
def handlers_back() -> Iterator[None]:
    """The test process's own handlers, whatever `exiting` set."""
    before = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    yield
    release()
    for signum, handler in before.items():
        signal.signal(signum, handler)


@pytest.mark.usefixtures("handlers_back")
@pytest.mark.parametrize(
    ("during_record", "after_record", "noted"),
    [([], [], None),
     ([signal.SIGHUP], [], "SIGHUP"),
     ([], [signal.SIGTERM], "SIGTERM"),
     ([], [signal.SIGTERM, signal.SIGINT], "SIGTERM"),
     ([signal.SIGINT], [signal.SIGTERM], "Ctrl-C")],
)  # fmt: skip
def test_once_the_work_is_recorded_a_stop_stops_nothing_and_is_noted_at_the_exit(
    during_record: list[int], after_record: list[int], noted: str | None
) -> None:
    """Signals that come while the record is written or after it, up to the exit (the
    handler stays past `guarded`): none raises, the first is named, and from the exit on
    every stop signal is ignored, so the interpreter's end cannot turn one into exit 143."""
    with guarded():
        with held(sends_steps=True):
            pass
        with recording("apply"):
            for signum in during_record:
                signal.raise_signal(signum)
        for signum in after_record[:1]:
            signal.raise_signal(signum)
    for signum in after_record[1:]:
        signal.raise_signal(signum)
    note = exiting()
    expected = f"{noted} came after the apply was done and recorded: it stopped nothing"
    assert note == (None if noted is None else expected)
    assert all(signal.getsignal(signum) is signal.SIG_IGN for signum in STOP_SIGNALS)


@pytest.mark.usefixtures("handlers_back")
def test_a_finished_command_that_goes_on_is_stopped_again() -> None:
    """apply --verify's checks after the apply: its handlers from before are back."""
    with guarded(), recording("apply"):
        pass
    signal.raise_signal(signal.SIGHUP)
    assert release() == signal.SIGHUP
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    with pytest.raises(Stopped) as raised, guarded():
        signal.raise_signal(signal.SIGTERM)
    assert seen(raised.value) == ("SIGTERM", False, False)


def test_a_record_that_fails_leaves_the_stop_signals_as_they_were() -> None:
    with pytest.raises(OSError), guarded(), recording("apply"):
        raise OSError("disk full")
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert release() is None


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
