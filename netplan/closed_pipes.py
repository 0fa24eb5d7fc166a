"""Standard output and error that outlive their reader: `netplan apply FILE | head -1`
finishes the apply, with the exit code it would have had, and so does an apply whose
terminal was closed (a write to a hung-up terminal fails with EIO).

Python ignores SIGPIPE, so a write to a pipe whose reader has gone raises BrokenPipeError,
which would stop the command half-way (and is kept so: SIGPIPE's default action would kill
an apply between two steps and leave the host half-changed); the rollback after a closed
terminal's SIGHUP would end in an internal error at its first line. Here the first such write
points the stream's descriptor at /dev/null instead, and succeeds: what is written after
it, the interpreter's flush at exit included, is discarded, and nothing is said about it.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

StreamName = Literal["stdout", "stderr"]

_gone: set[int] = set()
"""The descriptors whose reader has gone (now /dev/null)."""


class _DiscardsWhenClosed(io.FileIO):
    """A standard stream's descriptor (not closed with this object)."""

    def write(self, data: ReadableBuffer, /) -> int:
        try:
            return super().write(data)
        except OSError as error:
            if not isinstance(error, BrokenPipeError) and error.errno != errno.EIO:
                raise
            _to_devnull(self.fileno())
            return super().write(data)


def _to_devnull(fd: int) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
    _gone.add(fd)


def outlive_readers() -> None:
    """Make sys.stdout and sys.stderr discard what they are given once their reader has
    gone. Call it first thing: anything that kept the old streams would still raise."""
    _replace("stdout")
    _replace("stderr")


def _replace(name: StreamName) -> None:
    stream = getattr(sys, name)
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a descriptor (captured by a test): nothing to guard
    stream.flush()
    raw = _DiscardsWhenClosed(fd, "w", closefd=False)
    wrapper = io.TextIOWrapper(
        io.BufferedWriter(raw), encoding=stream.encoding, errors=stream.errors, newline="\n",
        line_buffering=stream.line_buffering, write_through=stream.write_through,
    )  # fmt: skip
    setattr(sys, name, wrapper)


def reader_gone(name: StreamName) -> bool:
    """Whether the stream's reader has gone: a command that would print forever (`logs
    --follow`) stops then."""
    stream = getattr(sys, name)
    try:
        return stream.fileno() in _gone
    except (AttributeError, OSError, ValueError):
        return False
