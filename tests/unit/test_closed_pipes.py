"""Standard streams whose reader has gone: writes and the interpreter's flush at exit are
discarded without a word, and the program goes on (the CLI: tests/e2e/test_closed_pipes.py)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

PROGRAM = """
import sys
from netplan import closed_pipes
closed_pipes.outlive_readers()
print("first")
sys.stdout.flush()
print("then a lot " * 10_000)
sys.stdout.buffer.write(b"and bytes")
print(closed_pipes.reader_gone("stdout"), closed_pipes.reader_gone("stderr"), file=sys.stderr)
print("unflushed at exit")
"""


def run_with_stdout_gone(program: str, terminal: bool = False) -> subprocess.CompletedProcess[str]:
    """`program` with standard output on a pipe whose reader has gone, or on a terminal
    already closed (its master end: writes fail with EIO, as after the SIGHUP of a closed
    terminal window)."""
    reader, writer = pty.openpty() if terminal else os.pipe()
    os.close(reader)
    try:
        return subprocess.run([sys.executable, "-c", program], stdout=writer,
                              stderr=subprocess.PIPE, text=True, timeout=60)  # fmt: skip
    finally:
        os.close(writer)


def test_output_to_a_reader_gone_is_discarded_and_the_program_goes_on() -> None:
    done = run_with_stdout_gone(PROGRAM)
    assert (done.returncode, done.stderr) == (0, "True False\n")


def test_output_to_a_closed_terminal_is_discarded_too() -> None:
    done = run_with_stdout_gone(PROGRAM, terminal=True)
    assert (done.returncode, done.stderr) == (0, "True False\n")
    without = run_with_stdout_gone(PROGRAM.replace("closed_pipes.outlive_readers()", ""),
                                   terminal=True)
    assert without.returncode != 0 and "Input/output error" in without.stderr


def test_without_it_python_stops_at_the_first_write() -> None:
    """What the CLI did before: BrokenPipeError, and at exit exit code 120."""
    done = run_with_stdout_gone(PROGRAM.replace("closed_pipes.outlive_readers()", ""))
    assert done.returncode != 0 and "BrokenPipeError" in done.stderr
