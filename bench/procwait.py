"""Waiting for a benchmarked process without adding to its time.

`Popen.wait(timeout)` (and `subprocess.run(timeout=...)` when no output is piped) polls:
it sleeps 0.5 ms, then twice as long each time, at most 50 ms, between looks. A process
that takes more than ~64 ms is seen to end only at the next look, up to 50 ms late: every
time comes out rounded up to 63.5 ms + a multiple of 50 ms. A wait with no timeout
blocks in waitpid and returns when the process ends; a timer kills it at the timeout.
"""

from __future__ import annotations

import subprocess
import threading


def wait(process: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float) -> int:
    """The exit code of `process` as soon as it ends; after `timeout` seconds it is
    killed and TimeoutExpired raised."""
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        code = process.wait()
    finally:
        timer.cancel()
    if killed.is_set():
        raise subprocess.TimeoutExpired(process.args, timeout)
    return code
