"""Work split over the CPUs: contiguous parts of a list, the first done in this process
and each other one in a forked child, whose result comes back pickled through a pipe;
or one piece of work in a child while this process does another (`started`).

Observing hundreds of namespaces is Python work between syscalls (decoding dumps,
building resources): threads take turns on one interpreter lock, processes do not
(500 namespaces on this 2-core machine: 150-225 ms in one process, 85-140 ms in two;
threads were no faster than one). A child runs `work` and nothing else, then leaves
with os._exit: no atexit handler, no flush of its parent's buffers, no report to the
console (another thread of the parent may hold its lock). Its answer is trusted as
the parent's own: it is the parent's code, forked a moment before.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import errno
import gc
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, TypeVar

from netplan.agent import fds

Item = TypeVar("Item")
Result = TypeVar("Result")
Other = TypeVar("Other")


class WorkerDied(OSError):
    """A child ended without sending its result (killed, or out of memory)."""


_beside_parent = False
"""Set in a child `started` for its parent to work meanwhile (beside_parent())."""


def beside_parent() -> bool:
    """Whether this process was `started` beside its parent's own work, which keeps one
    CPU busy meanwhile: splitting this process's work pays off later than otherwise."""
    return _beside_parent


def cpus() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0))


def part_count(items: int, per_part: int, most: int) -> int:
    """How many parts to split `items` items in: one per `per_part` items (a fork and
    its pickled answer cost more than they save on a short list), at most `most`."""
    return max(1, min(most, items // per_part))


def in_parts(items: Sequence[Item], work: Callable[[Sequence[Item]], Result],
             parts: int) -> list[Result]:
    """`work` of each of `parts` contiguous parts of `items`, in order: the first part
    here, the others in forked children at the same time (a part whose fork fails, for
    want of memory or processes, is done here afterwards). An exception raised by `work`
    in a child is raised here; if this process's own part fails, the children are
    killed."""
    return beside_parts(items, work, parts, lambda: None, 0)[0]


def beside_parts(
    items: Sequence[Item], work: Callable[[Sequence[Item]], Result], parts: int,
    beside: Callable[[], Other], beside_items: int,
) -> tuple[list[Result], Other]:  # fmt: skip
    """in_parts(), and `beside()` done here while the children work, before this
    process's own part: `beside` is worth about `beside_items` items of work, so this
    process's part is that many items shorter than the others (or empty)."""
    first, size = _sizes(len(items), parts, beside_items)
    chunks = [items[start:start + size] for start in range(first, len(items), size)]
    if not chunks:
        return [work(items)], beside()
    children: list[tuple[int, int] | None] = []
    try:
        for chunk in chunks:
            children.append(_fork(work, chunk))
        other = beside()
        results = [work(items[:first])]
        answers = [None if child is None else fds.read_to_end(child[1]) for child in children]
    finally:
        for child in children:
            if child is not None:
                _end(*child)
    for chunk, answer in zip(chunks, answers, strict=True):
        results.append(work(chunk) if answer is None else _result(answer))
    return results, other


def started(work: Callable[[], Result]) -> Callable[[], Result]:
    """`work()` begun in a forked child, for this process to do something else
    meanwhile; what waits for its result (an exception raised by `work` is raised there)
    and reaps the child, to be called once. If no child could be made, `work` is done
    there, in this process."""
    child = _fork(lambda _: _beside(work), [None])

    def result() -> Result:
        if child is None:
            return work()
        try:
            answer = fds.read_to_end(child[1])
        finally:
            _end(*child)
        value: Result = _result(answer)
        return value

    return result


def _beside(work: Callable[[], Result]) -> Result:
    global _beside_parent
    _beside_parent = True
    return work()


def _sizes(items: int, parts: int, beside_items: int) -> tuple[int, int]:
    """(this process's part, each child's): equal work once `beside_items` are added
    to this process's."""
    parts = max(1, parts)
    if parts == 1:
        return items, max(1, items)
    size = max(1, -(-(items + beside_items) // parts))
    first = max(0, size - beside_items)
    if first == 0:
        size = max(1, -(-items // (parts - 1)))
    return first, size


def _fork(work: Callable[[Sequence[Item]], Result],
          chunk: Sequence[Item]) -> tuple[int, int] | None:
    """(pid, read end of its pipe) of a child that runs `work(chunk)` and sends
    ("ok", result) or ("error", exception), pickled; None if no child could be made."""
    try:
        read, write = os.pipe2(os.O_CLOEXEC)
    except OSError:
        return None
    pid = None
    try:
        pid = os.fork()
    except OSError:
        return None
    finally:
        if pid is None:
            os.close(read)
            os.close(write)
    if pid:
        os.close(write)
        return pid, read
    status = 0
    try:
        gc.disable()  # a collection would write to every object: copies of all the pages
        os.close(read)
        try:
            answer = pickle.dumps(("ok", work(chunk)), pickle.HIGHEST_PROTOCOL)
        except BaseException as error:  # every failure goes to the parent
            answer = _pickled_error(error)
        view = memoryview(answer)
        while view:
            view = view[os.write(write, view):]
    except BaseException:  # the parent finds no answer: WorkerDied
        status = 1
    finally:
        os._exit(status)


def _pickled_error(error: BaseException) -> bytes:
    """The exception itself where it pickles and unpickles (a subclass whose __init__
    takes other arguments than it passes on does not), else an OSError that says what
    it was."""
    try:
        answer = pickle.dumps(("error", error), pickle.HIGHEST_PROTOCOL)
        pickle.loads(answer)
        return answer
    except Exception:  # whatever made it unpicklable
        text = f"{type(error).__name__}: {error}"
        return pickle.dumps(("error", OSError(errno.EIO, text)), pickle.HIGHEST_PROTOCOL)


def _end(pid: int, pipe: int) -> None:
    """Kill the child if it still runs (its answer is read, or no longer wanted), reap
    it, close its pipe."""
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(pipe)


def _result(answer: bytes) -> Any:
    """A child's result; its exception raised here."""
    if not answer:
        raise WorkerDied(errno.ECHILD, "a worker process ended without an answer")
    kind, value = pickle.loads(answer)
    if kind == "error":
        raise value
    return value
