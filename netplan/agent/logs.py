"""The `logs` request: bytes of a container process's output log, from an offset.

The controller asks again from the returned offset to follow it (`netplan logs -f`).
Bytes travel base64-encoded: a process may print anything, JSON carries only text.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from netplan.agent import process_record as records
from netplan.agent.errors import AgentFailure, ProtocolError

CHUNK = 1 << 20
"""Most bytes one answer carries; the controller asks again for the rest."""
TAIL_WINDOW = 1 << 16
"""How far back from the end `tail` looks for line starts, per step."""


def handle(topology: str, request: dict[str, Any]) -> dict[str, Any]:
    container = request.get("container")
    offset, tail = request.get("offset"), request.get("tail")
    if not isinstance(container, str) or not container:
        raise ProtocolError("'logs' needs a non-empty string 'container'")
    if offset is not None and (not isinstance(offset, int) or offset < 0):
        raise ProtocolError("'offset' must be a byte offset (>= 0)")
    if tail is not None and (not isinstance(tail, int) or tail < 0):
        raise ProtocolError("'tail' must be a number of lines (>= 0)")
    try:
        path = records.log_path(topology, container)
    except ValueError as error:
        raise ProtocolError(str(error)) from error
    try:
        with open(path, "rb") as log:
            size = os.fstat(log.fileno()).st_size
            if offset is None:
                start = size - _tail_bytes(log, size, tail) if tail is not None else 0
            else:
                start = offset if offset <= size else 0  # shorter: a new log, read it all
            log.seek(start)
            data = log.read(CHUNK)
    except FileNotFoundError:
        return {"exists": False, "data": "", "offset": 0, "size": 0}
    except OSError as error:
        raise AgentFailure(f"cannot read {path}: {error.strerror}") from error
    return {"exists": True, "data": base64.b64encode(data).decode(),
            "offset": start + len(data), "size": size, "restarted": offset is not None
            and offset > size}


def _tail_bytes(log: Any, size: int, lines: int) -> int:
    """How many bytes at the end of the file hold its last `lines` lines."""
    if lines == 0:
        return 0
    end = size
    window = 0
    while window < size:
        window = min(size, window + TAIL_WINDOW)
        log.seek(size - window)
        chunk = log.read(window)
        body = chunk[:-1] if chunk.endswith(b"\n") else chunk
        if body.count(b"\n") >= lines:
            cut = len(body)
            for _ in range(lines):
                cut = body.rindex(b"\n", 0, cut)
            return end - (size - window + cut + 1)
    return size
