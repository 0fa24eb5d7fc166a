"""Stop signals while apply or destroy changes hosts.

Ctrl-C (SIGINT), SIGTERM (`kill`, systemd, a CI job's timeout) and SIGHUP (the terminal
closed) all mean one thing: stop at the next safe point, and leave no host half-changed
(docs/reliability.md). The safe point depends on what the command is doing:

- before the steps are sent, and once they are done (verify): the signal raises Stopped
  where the main thread is, as Python raises KeyboardInterrupt for Ctrl-C;
  `Stopped.changed` says which of the two;
- while the agents run the steps, or while the command records what it did (`held`):
  the first signal is held, and whoever holds it acts on it once that work is done (the
  steps: each agent is asked at once to stop between two steps and roll back); a second
  one raises Stopped at once, cutting that work short;
- once the work is done and recorded (`recording`), until the process exits: there is
  nothing left to stop. The signal is noted, not raised, and the command ends with its
  own exit code (0 when it succeeded) and a note naming the signal (`exiting`): a CI job
  or a systemd unit sees the apply for what it was, not a failure or death by signal
  (exit 143, Python's default action, which the interpreter puts back as it ends).

One handler serves the whole command (`guarded`); what it does is read from this
module's state when the signal is handled, in the main thread between two bytecodes, so
a signal falls exactly before or after the moment the steps were sent. A signal the
process ignores (`nohup`) stays ignored. Forked children inherit the handler: a child
that makes namespaces for the local agent keeps at it while its parent stops the apply.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def describe(signum: int) -> str:
    """The signal as a report names it."""
    if signum == signal.SIGINT:
        return "Ctrl-C"
    return signal.Signals(signum).name


class Stopped(KeyboardInterrupt):
    """A stop signal, raised in the main thread. `changed`: the steps had been sent to
    the agents; `at_once`: a second signal, which cut short work that was to finish."""

    def __init__(self, signum: int, changed: bool = False, at_once: bool = False) -> None:
        super().__init__(signum, changed, at_once)
        self.signum, self.changed, self.at_once = signum, changed, at_once

    @property
    def why(self) -> str:
        return describe(self.signum)

    def lines(self) -> list[str]:
        """The error to report when no host says more."""
        if self.at_once:
            return [f"stopped at once by a second stop signal ({self.why}): the work under "
                    f"way was cut short (hint: `netplan plan` of the file shows where the "
                    f"hosts stand)"]  # fmt: skip
        if not self.changed:
            return [f"interrupted ({self.why}) before any change: nothing was changed"]
        return [f"interrupted ({self.why}) after the steps were sent (hint: `netplan plan` "
                f"of the file shows where the hosts stand)"]  # fmt: skip


@dataclass
class Held:
    """The first stop signal that came while work that is not cut short ran."""

    signum: int | None = None


def _nothing() -> None:
    """What a held signal wakes when nothing is waiting for it."""


_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


@dataclass
class _State:
    installed: bool = False
    changed: bool = False
    """The steps have been sent (in this command)."""
    holder: Held | None = None
    on_hold: Callable[[], None] = field(default=_nothing)
    finished: str | None = None
    """What the command did ("apply"), once its work is done and recorded."""
    late: Held = field(default_factory=Held)
    """The first stop signal after that."""
    previous: dict[int, _Handler] = field(default_factory=dict)
    """The handlers `guarded` replaced and left in place because the work was finished."""


_state = _State()


def _handle(signum: int, frame: object) -> None:
    if _state.finished is not None:
        _state.late.signum = _state.late.signum or signum
        return
    holder = _state.holder
    if holder is not None and holder.signum is None:
        holder.signum = signum
        _state.on_hold()
        return
    raise Stopped(signum, _state.changed, at_once=holder is not None)


def _on_main_thread() -> bool:
    """Only the main thread can take signals (and install their handlers)."""
    return threading.current_thread() is threading.main_thread()


@contextmanager
def guarded() -> Iterator[None]:
    """The stop signals handled as this module says, for a command that changes hosts;
    the previous handlers back afterwards. Usable as a decorator."""
    if _state.installed or not _on_main_thread():
        yield
        return
    previous: dict[int, _Handler] = {}
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            before = signal.signal(signum, _handle)
            previous[signum] = signal.SIG_DFL if before is None else before
    _state.installed, _state.changed = True, False
    try:
        yield
    finally:
        if _state.finished is None:
            _restore(previous)
            _state.installed, _state.changed = False, False
        else:  # the handler notes stop signals until `release` or `exiting`
            _state.previous = previous


def _restore(handlers: dict[int, _Handler]) -> None:
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


@contextmanager
def held(on_hold: Callable[[], None] = _nothing, sends_steps: bool = False) -> Iterator[Held]:
    """Work the first stop signal does not cut short: the signal is kept in the Held
    given, for the caller to act on afterwards, and `on_hold()` is called from the
    handler (it must only wake something up); a second one raises Stopped at once.
    `sends_steps`: the steps go to the agents in here. Off the main thread, nothing."""
    holder = Held()
    if not _on_main_thread():
        yield holder
        return
    with guarded():
        outer, outer_on_hold = _state.holder, _state.on_hold
        _state.holder, _state.on_hold = holder, on_hold
        _state.changed = _state.changed or sends_steps
        try:
            yield holder
        finally:
            _state.holder, _state.on_hold = outer, outer_on_hold


@contextmanager
def recording(verb: str) -> Iterator[None]:
    """The command records what it did (`verb`: apply, destroy): `held`, and once the
    record is written the work is finished, up to the process's exit: a stop signal
    that comes then, or came while the record was written, stops nothing (`exiting`
    names it). Off the main thread, only `held`."""
    with held() as late:
        yield
    if _state.installed:
        _state.finished, _state.late = verb, late


def release() -> int | None:
    """A finished command goes on with work a stop signal may stop (`apply --verify`'s
    checks): the handlers from before `guarded` back. The stop signal noted since the
    work was finished, if one was."""
    late = _state.late.signum if _state.finished is not None else None
    if _state.finished is not None:
        _restore(_state.previous)
        _state.installed, _state.finished, _state.late, _state.previous = False, None, Held(), {}
    return late


def exiting() -> str | None:
    """The command has returned and its exit code is decided: from here every stop
    signal is ignored (as the interpreter ends, it would put back the default action).
    The note for a stop signal that came after the work was finished, if one did."""
    verb = _state.finished
    late = release()
    if _on_main_thread():
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
    if late is None:
        return None
    return f"{describe(late)} came after the {verb} was done and recorded: it stopped nothing"
