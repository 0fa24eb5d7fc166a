"""Progress reports of the request being handled: each step done while the agent applies.

`api.handle` installs where they go for one request (`reporting`): locally the
controller's callback; over SSH (`__main__`) a line `{"progress": {"done", "total"},
"version"}` written before the answer, only when the request asks (`"progress": true`).
An agent that does not know the flag sends no such lines and a controller that does not
ask gets none, so the protocol stays compatible both ways. The steps call `step_done`
without knowing who listens.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Sink = Callable[[dict[str, Any]], None]

_sink: ContextVar[Sink | None] = ContextVar("netplan_agent_progress", default=None)


@contextmanager
def reporting(sink: Sink | None) -> Iterator[None]:
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


def step_done(done: int, total: int) -> None:
    sink = _sink.get()
    if sink is not None:
        sink({"done": done, "total": total})
