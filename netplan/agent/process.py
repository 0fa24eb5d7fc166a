"""Containers' processes: started from the agent in the container's namespaces, detached
so they outlive it, observed through their records, stopped with SIGTERM then SIGKILL
together with every other process inside the container (netplan/agent/inside.py).

Starting forks twice. The child enters the container (netplan/agent/enter.py), forks the
process itself (which calls setsid, points stdout and stderr at the log and execs), sends
its PID up a pipe and then watches it for GRACE seconds: an exec that fails or a process
that exits in that time is reported on the pipe with its status. The agent reads every
pipe once, after all of an apply's steps (`confirm`), so fifty processes cost one grace
period, not fifty. The child then waits for the agent's word that the process is recorded
(one byte on a second pipe) and exits; the process is adopted by init: nothing ties it to
the agent, which over SSH exits when the command ends. If the agent dies first (killed,
or its host connection cut, in the middle of an apply), that pipe ends without the byte
and the child kills the process: no process runs that no record knows of.

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, replace

from netplan.agent import enter, fds, inside, nsutil
from netplan.agent import process_record as records
from netplan.agent.process_record import DamagedRecord, Record
from netplan.agent.resources import ROOT, Process
from netplan.agent.session import Session

GRACE = 0.2
"""Seconds a process must survive its start for the apply to call it started."""
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""Docker's PATH for a container whose image sets none."""
LAST_LINES = 3
"""Lines of its output an apply shows for a process that failed to start."""
KILL_WAIT = 5.0
"""Seconds to wait for a SIGKILLed process to be gone."""

_libc = ctypes.CDLL(None, use_errno=True)


def environment(env: Sequence[str], hostname: str) -> dict[str, str]:
    """PATH, HOME and HOSTNAME as Docker gives them, under the container's own `env`:
    the agent's environment (which differs between local runs, SSH and sudo) never leaks
    in."""
    base = {"PATH": DEFAULT_PATH, "HOME": "/root", "HOSTNAME": hostname or os.uname().nodename}
    return {**base, **dict(item.split("=", 1) for item in env)}


@dataclass
class Started:
    """A process this call started, until `confirm` has heard its child's verdict."""

    process: Process
    child: int
    pipe: int
    recorded: int
    """The write end of the pipe that tells the child its process is recorded."""


def create(session: Session, process: Process) -> None:
    _stop_recorded(session.topology, process.container)
    _start(session, process, truncate=True)


def update(session: Session, process: Process, fields: tuple[str, ...]) -> None:
    """`running`: start it again (stopping first what is left of it, e.g. a process in a
    namespace that is no longer the container's); otherwise only the record changes."""
    if "running" in fields:
        _stop_recorded(session.topology, process.container)
        _start(session, process, truncate=False)
        return
    folder = records.directory(session.topology, process.container)
    record = records.read(folder)
    if record is None:
        raise FileNotFoundError(2, f"no record in {folder}")
    records.write(session.topology, process, replace(record, spec=records.spec_of(process)))


def delete(session: Session, process: Process) -> None:
    _stop_recorded(session.topology, process.container, process.stop_timeout)
    records.remove(session.topology, process.container)


def delete_in(session: Session, netns: str) -> None:
    """Stop and forget every process of the topology running in namespace `netns`, then
    end whatever else is still inside it: what deleting the namespace does to them (they
    are its children in the plan). What is left gets SIGKILL after the largest
    `stop_timeout` of those processes (none: at once), as a stopped Docker container
    takes its `docker exec` processes with it. A namespace none of the topology's
    processes ran in is looked into only when the session's census saw a process there."""
    timeout, recorded = 0, False
    for container in records.listed(session.topology):
        folder = records.directory(session.topology, container)
        try:
            record = records.read(folder)
        except DamagedRecord:
            continue
        if record is not None and record.spec["netns"] == netns:
            stop(record, record.spec["stop_timeout"])
            records.remove(session.topology, container)
            timeout, recorded = max(timeout, record.spec["stop_timeout"]), True
    path = nsutil.path_of(netns)
    if recorded or session.census.occupied(path):
        _end(None, [("net", path)], timeout)


def _stop_recorded(topology: str, container: str, timeout: int | None = None) -> None:
    record = records.read(records.directory(topology, container))
    if record is not None:
        stop(record, record.spec["stop_timeout"] if timeout is None else timeout)


def stop(record: Record, timeout: float) -> None:
    """SIGTERM to its process group and to every other process in the mount namespace the
    agent made for it (what it detached with setsid, a `netplan exec` joined to it), then
    SIGKILL to all of them once it has ended or after `timeout` seconds; only while /proc
    still shows the recorded start time (a reused PID is someone else's). In `host` mode
    too: that mount namespace is the container's alone, unlike the network one."""
    if records.alive(record):
        _end(record, [("mnt", f"/proc/{record.pid}/ns/mnt")], timeout)


def _end(record: Record | None, files: list[tuple[str, str]], timeout: float) -> None:
    """SIGTERM to the recorded process's group and to every process inside the namespaces
    (kind, file) (netplan/agent/inside.py); wait up to `timeout` seconds for the recorded
    process to end (without one: for all of them); then SIGKILL to what is left."""
    with inside.held(files) as namespaces:
        if record is not None and not records.alive(record):
            return  # ended before its mount namespace was held: that may be another's now
        found = inside.processes(namespaces)
        try:
            if record is not None:
                _signal(record.pid, signal.SIGTERM)
            inside.send(found, signal.SIGTERM)
            if record is not None:
                _gone(record, timeout)
            else:
                inside.wait_ended(found, timeout)
        finally:
            inside.release(found)
        _kill(record, namespaces)


def _kill(record: Record | None, namespaces: frozenset[inside.Namespace]) -> None:
    """SIGKILL to the group and to whatever is inside, found again until nothing is (a
    process may have started another meanwhile)."""
    if record is not None:
        _signal(record.pid, signal.SIGKILL)
    deadline = time.monotonic() + KILL_WAIT
    while found := inside.processes(namespaces):
        try:
            inside.send(found, signal.SIGKILL)
            if not inside.wait_ended(found, deadline - time.monotonic()):
                raise TimeoutError(0, f"processes {', '.join(map(str, sorted(found)))} "
                                      f"survived SIGKILL for {KILL_WAIT:.0f} s")
        finally:
            inside.release(found)
    if record is not None and not _gone(record, max(0.0, deadline - time.monotonic())):
        raise TimeoutError(0, f"process {record.pid} survived SIGKILL for {KILL_WAIT:.0f} s")


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        with suppress(ProcessLookupError):
            os.kill(pid, sig)


def _gone(record: Record, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    pause = 0.001
    while records.alive(record):
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    return True


def _start(session: Session, process: Process, truncate: bool) -> None:
    folder = records.directory(session.topology, process.container)
    os.makedirs(folder, mode=0o750, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | (os.O_TRUNC if truncate else 0)
    log = os.open(os.path.join(folder, records.LOG), flags, 0o640)
    try:
        netns_fd = None if process.netns == ROOT else session.fd(process.netns)
        child, pipe, recorded = _fork(process, netns_fd, log)
    finally:
        os.close(log)
    session.started.append(Started(process, child, pipe, recorded))


def _fork(process: Process, netns_fd: int | None, log: int) -> tuple[int, int, int]:
    """The child described in the module docstring; returns its PID, the pipe it reports
    on, and the pipe that tells it the process is recorded."""
    read_end, write_end = os.pipe()
    recorded_read, recorded_write = os.pipe()
    child = os.fork()
    if child:
        os.close(write_end)
        os.close(recorded_read)
        return child, read_end, recorded_write
    os.close(read_end)
    os.close(recorded_write)
    status, pid, ended = 1, 0, False
    try:
        mounts = [enter.Mount.parse(text) for text in process.volumes]
        enter.container(netns_fd, process.netns, process.hostname, mounts, process.workdir)
        pid = os.fork()
        if pid == 0:
            _exec(process, log, write_end)
        os.write(write_end, f"pid:{pid}\n".encode())
        verdict = _watch(pid)
        ended = verdict.startswith("exit:")
        os.write(write_end, verdict.encode())
        os.close(write_end)
        if os.read(recorded_read, 1):
            status = 0
    except BaseException as error:
        _tell(write_end, f"setup:{_words(error)}")
    finally:  # a forked child never returns into the agent's code
        if status and pid and not ended:
            _signal(pid, signal.SIGKILL)  # not recorded: the agent is gone
        os._exit(status)


def _exec(process: Process, log: int, report: int) -> None:
    """In the process itself: a session of its own, /dev/null in, the log out, exec."""
    try:
        os.setsid()
        for sig in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores them; programs expect them
            _libc.signal(int(sig), 0)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.set_inheritable(report, False)
        os.closerange(3, report)
        os.closerange(report + 1, 1 << 16)
        env = environment(process.env, process.hostname)
        os.execvpe(process.argv[0], list(process.argv), env)
    except BaseException as error:
        _tell(report, f"exec:{_words(error)}")
    finally:
        os._exit(127)


def _tell(pipe: int, line: str) -> None:
    """One line to the agent, from a child: nothing may escape it."""
    with suppress(BaseException):
        os.write(pipe, f"{line}\n".encode())


def _watch(pid: int) -> str:
    """Wait up to GRACE for the process to end: `exit:STATUS` if it did, else `running`."""
    deadline = time.monotonic() + GRACE
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return f"exit:{os.waitstatus_to_exitcode(status)}\n"
        time.sleep(0.01)
    return "running\n"


def _words(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower().replace("\n", " ")
    return str(error).replace("\n", " ")


def confirm(session: Session) -> list[tuple[Process, str]]:
    """Hear every child started by this call and write each process's record (read only
    now, so that the children enter their containers side by side, not one after the
    other); the processes that failed (could not be set up or exec'd, or exited within
    GRACE) with a reason and their last output lines. Their records are marked failed
    (the next plan starts them again); the log stays for `netplan logs`."""
    failures = []
    for started in session.started:
        said = _read_all(started.pipe)
        os.close(started.pipe)
        first = said[0] if said else "setup:it exited without a word"
        pid = int(first.removeprefix("pid:")) if first.startswith("pid:") else 0
        found = records.stat_of(pid) if pid else None
        failed = [line for line in said if line.startswith("exec:")]
        verdict = failed[0] if failed else said[-1] if pid and len(said) > 1 else first
        reason = _reason(started.process, verdict)
        spec = records.spec_of(started.process)
        try:
            records.write(session.topology, started.process,
                          Record(pid, found[0] if found else 0, spec, failed=bool(reason)))
            with suppress(BrokenPipeError):  # a child whose setup failed has gone
                os.write(started.recorded, b"r")
        finally:  # without the byte, the child kills the process no record knows of
            os.close(started.recorded)
        os.waitpid(started.child, 0)
        if reason:
            failures.append((started.process, reason + _last_output(session, started.process)))
    session.started.clear()
    return failures


def _read_all(pipe: int) -> list[str]:
    """Every line a child (and its process, if exec failed) wrote: `pid:N` then `exit:N`
    or `running`, or an `exec:` or `setup:` failure."""
    return fds.read_to_end(pipe).decode(errors="replace").splitlines()


def _reason(process: Process, verdict: str) -> str:
    what, _, detail = verdict.partition(":")
    if what == "setup":
        return f"cannot enter the container: {detail}"
    if what == "exec":
        return f"cannot run {process.argv[0]}: {detail}"
    if what == "exit":
        if detail == "0" and process.restart == "no":
            return ""  # a one-shot command that did its job
        return f"exited with status {detail} within {GRACE} s of its start"
    return ""


def _last_output(session: Session, process: Process) -> str:
    try:
        with open(records.log_path(session.topology, process.container), "rb") as log:
            log.seek(max(0, os.fstat(log.fileno()).st_size - 4096))
            text = log.read().decode(errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()][-LAST_LINES:]
    return f"; its last output: {' | '.join(lines)}" if lines else "; it printed nothing"


def observe(topology: str) -> tuple[list[Process], dict[str, str]]:
    """The topology's processes as their records describe them, `running` when the
    recorded process is alive in the namespace it should be in; and the keys of damaged
    records (foreign: nothing is done to them)."""
    found: list[Process] = []
    damaged: dict[str, str] = {}
    inodes: dict[str, int | None] = {}
    for container in records.listed(topology):
        folder = records.directory(topology, container)
        try:
            record = records.read(folder)
        except DamagedRecord as error:
            damaged[f"process:{container}"] = (
                f"has a damaged record in {folder} ({error}): remove the directory "
                "once its process is stopped"
            )
            continue
        if record is None or record.failed:
            continue
        netns = record.spec["netns"]
        if netns not in inodes:
            inodes[netns] = _inode(netns)
        running = records.alive(record) and records.netns_inode(record.pid) == inodes[netns]
        found.append(record.process(running))
    return found, damaged


def _inode(netns: str) -> int | None:
    path = "/proc/thread-self/ns/net" if netns == ROOT else nsutil.path_of(netns)
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None
