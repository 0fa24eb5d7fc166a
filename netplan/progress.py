"""What a long command is doing, as it does it: per host, the stage (connect, observe,
plan, apply, verify) and, while the agent applies steps, how many of them are done.

The pipeline reports to `reporter()`, like a logger; the CLI chooses it once per command
(`choose`). Nothing is reported unless stdout and stderr are both terminals (and colours
are not turned off): CI logs and pipes get exactly the plain output they always had. On a
terminal the display is drawn on stderr with rich and removes itself when the command
prints anything (the plan, a question, the result, an error), to be drawn again by the
next stage. `--verbose` adds a line per stage (with its time) and per step, plain text
when not on a terminal.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from netplan.agent.state import Step

Result = TypeVar("Result")

STAGES = ("connect", "observe", "plan", "apply", "verify")


class Reporter:
    """Reports nothing: the default, and what non-terminals and `--quiet` get."""

    wants_steps = False
    """Whether the agent should report each step it finishes (a stream of lines over SSH)."""

    def stage(self, host: str, stage: str) -> None:
        """`host` starts `stage`."""

    def stage_done(self, host: str, stage: str, seconds: float, ok: bool) -> None:
        """`host` finished `stage` after `seconds` (`ok`: without an error)."""

    def step(self, host: str, done: int, total: int, text: str) -> None:
        """`host`'s agent finished step `done` of `total`, which `text` describes."""

    def close(self) -> None:
        """The command ends: remove anything still drawn."""


_current: Reporter = Reporter()


def reporter() -> Reporter:
    return _current


def use(chosen: Reporter) -> None:
    global _current
    _current = chosen


def choose(verbose: bool, color: bool) -> Reporter:
    """A display on a terminal that takes colours and cursor moves (not with `--no-color`
    or NO_COLOR: plain text there too); `verbose` lines elsewhere; else nothing."""
    terminal = sys.stdout.isatty() and sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
    if terminal and color:
        return Display(verbose)
    if verbose:
        return Lines(sys.stderr)
    return Reporter()


class Lines(Reporter):
    """`--verbose` without a terminal: one plain line per stage done and per step."""

    wants_steps = True

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lock = threading.Lock()

    def say(self, line: str) -> None:
        with self.lock:
            self.out.write(line + "\n")
            self.out.flush()

    def stage_done(self, host: str, stage: str, seconds: float, ok: bool) -> None:
        self.say(f"{host}: {stage} {'done' if ok else 'failed'} in {seconds:.2f} s")

    def step(self, host: str, done: int, total: int, text: str) -> None:
        self.say(f"{host}: [{done}/{total}] {text}")


class Display(Reporter):
    """A rich progress display on stderr: one row per host with its stage and, while
    steps run, a bar with done/total. Worker threads report; rich draws from its own."""

    wants_steps = True

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.lock = threading.RLock()
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        self.streams: tuple[TextIO, TextIO] | None = None

    def stage(self, host: str, stage: str) -> None:
        with self.lock:
            progress = self._started()
            fields: dict[str, Any] = {"description": stage, "total": None, "completed": 0,
                                      "count": ""}
            if host in self.tasks:
                progress.update(self.tasks[host], **fields)
            else:
                self.tasks[host] = progress.add_task(host=host, **fields)
            progress.refresh()

    def stage_done(self, host: str, stage: str, seconds: float, ok: bool) -> None:
        if self.verbose:
            self._print(f"{host}: {stage} {'done' if ok else 'failed'} in {seconds:.2f} s")

    def step(self, host: str, done: int, total: int, text: str) -> None:
        with self.lock:
            if self.progress is not None and host in self.tasks:
                self.progress.update(self.tasks[host], total=total, completed=done,
                                     count=f"{done}/{total}")
        if self.verbose:
            self._print(f"{host}: [{done}/{total}] {text}")

    def _print(self, line: str) -> None:
        """Above the display (which stays), in the display's console."""
        from rich.text import Text

        with self.lock:
            self._started().console.print(Text(line), highlight=False, soft_wrap=True)

    def _started(self) -> Progress:
        if self.progress is not None:
            return self.progress
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        stdout, stderr = sys.stdout, sys.stderr
        console = Console(file=stderr, highlight=False)
        self.progress = Progress(
            TextColumn("[bold]{task.fields[host]}"), TextColumn("{task.description:<8}"),
            BarColumn(), TextColumn("{task.fields[count]}"), TimeElapsedColumn(),
            console=console, transient=True, redirect_stdout=False, redirect_stderr=False,
        )
        self.tasks = {}
        self.streams = (stdout, stderr)
        sys.stdout = _StopsOnWrite(stdout, self.close)
        sys.stderr = _StopsOnWrite(stderr, self.close)
        self.progress.start()
        return self.progress

    def close(self) -> None:
        with self.lock:
            if self.progress is None:
                return
            progress, self.progress = self.progress, None
            assert self.streams is not None
            sys.stdout, sys.stderr = self.streams
            self.streams = None
            progress.stop()


class _StopsOnWrite:
    """A standard stream that first removes the display when anything is written to it,
    so that output is never drawn over (or erased with) the display."""

    def __init__(self, stream: TextIO, stop: Callable[[], None]) -> None:
        self._stream = stream
        self._stop = stop

    def write(self, text: str) -> int:
        self._stop()
        return self._stream.write(text)

    def writelines(self, lines: Any) -> None:
        self._stop()
        self._stream.writelines(lines)

    @property
    def buffer(self) -> Any:
        self._stop()
        return self._stream.buffer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def timed(host: str, stage: str, work: Callable[[], Result]) -> Result:
    """`work()`, reported as `host`'s `stage`."""
    current = reporter()
    current.stage(host, stage)
    started, ok = time.perf_counter(), False
    try:
        result = work()
        ok = True
        return result
    finally:
        current.stage_done(host, stage, time.perf_counter() - started, ok)


def step_reports(host: str, steps: Sequence[Step]) -> Callable[[dict[str, Any]], None] | None:
    """What to do with the agent's progress reports while it runs `steps` on `host`; None
    when nobody wants them (then the agent is not asked to send any)."""
    current = reporter()
    if not current.wants_steps:
        return None
    from netplan.plan.changes import SYMBOLS

    def report(data: dict[str, Any]) -> None:
        done = data.get("done")
        if isinstance(done, int) and 0 < done <= len(steps):
            step = steps[done - 1]
            text = f"{SYMBOLS.get(step.op, step.op)} {step.resource.describe()}"
            current.step(host, done, len(steps), text)

    return report
