"""The hosts observed while this thread loads the file (netplan/pipeline.py, observe_beside),
with fake connections: the work and the calls overlap, a host whose agent answers with an
error is set aside as observe() does, and no call is left running when the work fails.
HostConnection.begin's default (a thread that waits for a remote agent) and the local
provider's (a forked child) as observe_beside uses them."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

from netplan import pipeline, progress
from netplan.agent.resources import Netns
from netplan.agent.state import PROTOCOL_VERSION, HostState
from netplan.errors import AgentError
from netplan.outline import HostOutline, Outline
from providers.base import HostConnection
from providers.local import LocalConnection

OUTLINE = Outline("beside", {"a": HostOutline(paths=("/srv/data",)), "b": HostOutline()})
WAIT = 10.0
"""Longer than any of these tests takes when what it waits for happens."""


def state_of(name: str) -> HostState:
    """A state that says which host it came from."""
    state = HostState()
    state.add(Netns(f"of-{name}"))
    return state


def ok(state: HostState | dict[str, Any]) -> dict[str, Any]:
    return {"version": PROTOCOL_VERSION, "ok": True, "state": state}


def refused(message: str) -> dict[str, Any]:
    return {"version": PROTOCOL_VERSION, "ok": False, "error": {"message": message}}


class Fake(HostConnection):
    """Answers `answer` once `release` is set (at once without one), from the thread
    HostConnection.begin gives the call."""

    def __init__(self, name: str, answer: dict[str, Any],
                 release: threading.Event | None = None) -> None:
        super().__init__(name)
        self.answer = answer
        self.release = release
        self.requests: list[dict[str, Any]] = []
        self.called = threading.Event()
        self.released = False
        self.finished = threading.Event()
        self.threads: list[threading.Thread] = []
        self.closed = False

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        self.threads.append(threading.current_thread())
        self.requests.append(request)
        self.called.set()
        if self.release is not None:
            self.released = self.release.wait(WAIT)
            time.sleep(0.2)  # still answering a moment after the work is done
        self.finished.set()
        return self.answer

    def close(self) -> None:
        self.closed = True


class Failing(Fake):
    """A connection that fails on its own side (a remote host's SSH session lost)."""

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        super().call(request)
        raise AgentError(self.name, "connection", "the SSH session ended")


class Recorder(progress.Reporter):
    def __init__(self) -> None:
        self.events: list[tuple[str, str, bool | None]] = []

    def stage(self, host: str, stage: str) -> None:
        self.events.append((host, stage, None))

    def stage_done(self, host: str, stage: str, seconds: float, ok: bool) -> None:
        self.events.append((host, stage, ok))


@pytest.fixture
def reported(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(progress, "_current", recorder)
    return recorder


def hosts_of(*connections: HostConnection) -> pipeline.Hosts:
    hosts = pipeline.Hosts()
    hosts.update((c.name, c) for c in connections)
    return hosts


def test_the_work_runs_while_the_hosts_are_observed(reported: Recorder) -> None:
    """Each fake answers only once the work let it: the calls were in flight, on threads
    of their own, while this thread did the work."""
    release = threading.Event()
    a = Fake("a", ok(state_of("a")), release)
    b = Fake("b", ok(state_of("b").to_json()), release)  # a remote agent's JSON

    def work() -> str:
        assert a.called.wait(WAIT) and b.called.wait(WAIT)  # both asked before the work ends
        release.set()
        return "loaded"

    observed, done = pipeline.observe_beside(OUTLINE, hosts_of(a, b), work)
    assert done == "loaded" and a.released and b.released
    assert observed == {"a": state_of("a"), "b": state_of("b")}
    assert {*a.threads, *b.threads} & {threading.current_thread()} == set()
    assert a.requests == [{"version": PROTOCOL_VERSION, "op": "observe", "topology": "beside",
                           "paths": ["/srv/data"]}]  # the outline's facts asked  # fmt: skip
    assert b.requests == [{"version": PROTOCOL_VERSION, "op": "observe", "topology": "beside"}]
    assert reported.events == [("a", "observe", None), ("b", "observe", None),
                               ("a", "observe", True), ("b", "observe", True)]  # fmt: skip


@pytest.mark.parametrize(("failing", "message"), [
    (Fake("b", refused("cannot observe the host: no such file")),
     "host b: agent: cannot observe the host: no such file"),
    (Failing("b", {}), "host b: connection: the SSH session ended"),
], ids=["agent-error", "connection-error"])  # fmt: skip
def test_a_host_that_fails_is_set_aside_and_the_others_observed(
    reported: Recorder, failing: Fake, message: str
) -> None:
    a = Fake("a", ok(state_of("a")))
    hosts = hosts_of(a, failing)
    observed, done = pipeline.observe_beside(OUTLINE, hosts, lambda: 42)
    assert (observed, done) == ({"a": state_of("a")}, 42)
    assert list(hosts) == ["a"] and failing.closed and not a.closed
    failure = hosts.failed["b"]
    assert failure.stage == "observe" and isinstance(failure.error, AgentError)
    assert str(failure.error) == message
    assert ("b", "observe", False) in reported.events
    assert ("a", "observe", True) in reported.events


def test_the_calls_are_waited_for_when_the_work_fails(reported: Recorder) -> None:
    """A failing load (an invalid file) still waits for every answer: no call is left
    running, and a host's failure is recorded, before the error goes up."""
    release = threading.Event()
    a = Fake("a", ok(state_of("a")), release)
    b = Fake("b", refused("cannot observe the host: gone"), release)

    def work() -> str:
        assert a.called.wait(WAIT) and b.called.wait(WAIT)
        release.set()
        raise ValueError("the file is not valid")

    hosts = hosts_of(a, b)
    with pytest.raises(ValueError, match="the file is not valid"):
        pipeline.observe_beside(OUTLINE, hosts, work)
    assert a.finished.is_set() and b.finished.is_set()  # each fake sleeps after `release`
    assert list(hosts) == ["a"] and hosts.failed["b"].stage == "observe"
    assert ("a", "observe", True) in reported.events


def test_begin_returns_at_once_and_its_waiter_gives_the_answer() -> None:
    release = threading.Event()
    host = Fake("a", ok(state_of("a")), release)
    waiter = host.begin({"op": "observe"})
    assert host.called.wait(WAIT) and not host.finished.is_set()  # under way, not done
    release.set()
    assert waiter() == ok(state_of("a")) and host.finished.is_set()
    [thread] = host.threads
    assert thread is not threading.current_thread() and thread.name == "call a"
    assert not thread.is_alive()


def test_begin_raises_the_calls_exception_in_the_waiter() -> None:
    host = Failing("a", {})
    waiter = host.begin({"op": "observe"})  # the call fails on its thread, not here
    with pytest.raises(AgentError, match="the SSH session ended"):
        waiter()


class ForkedFake(LocalConnection):
    """The local provider's begin (a forked child) around an agent that only says which
    process answered."""

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        return ok(state_of(str(os.getpid())))


def test_a_local_host_is_observed_by_a_forked_child() -> None:
    observed, done = pipeline.observe_beside(OUTLINE, hosts_of(ForkedFake("a")), os.getpid)
    [netns] = observed["a"].resources.values()
    assert isinstance(netns, Netns)
    assert done == os.getpid() != int(netns.name.removeprefix("of-"))
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # the child was reaped


class KilledFake(LocalConnection):
    """The local provider's child killed before it answers (the out-of-memory killer)."""

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("not reached")


def test_a_local_child_that_dies_sets_its_host_aside(reported: Recorder) -> None:
    hosts = hosts_of(KilledFake("local"))
    observed, done = pipeline.observe_beside(OUTLINE, hosts, lambda: "loaded")
    assert (observed, done) == ({}, "loaded")
    failure = hosts.failed["local"]
    assert failure.stage == "observe" and isinstance(failure.error, AgentError)
    assert "the agent's process for this request ended" in str(failure.error)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # the child was reaped


class Broken(Fake):
    """A connection with a bug: an exception that is not a NetplanError."""

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        super().call(request)
        raise KeyError("a bug")


def test_a_bug_is_raised_once_every_other_answer_is_in(reported: Recorder) -> None:
    release = threading.Event()
    slow = Fake("b", ok(state_of("b")), release)
    hosts = hosts_of(Broken("a", {}), slow)

    def work() -> None:
        assert slow.called.wait(WAIT)
        release.set()

    with pytest.raises(KeyError, match="a bug"):
        pipeline.observe_beside(OUTLINE, hosts, work)
    assert slow.finished.is_set()  # waited for, though the first host's answer raised
    assert ("b", "observe", True) in reported.events
