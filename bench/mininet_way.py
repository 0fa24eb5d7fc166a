"""The Mininet way: bench/mininet_driver.py under Debian's python3, timed from here.

apply = from starting the driver process until it reports the network up (interpreter
start, `import mininet`, build, start: the whole process as `mn` runs it); add = one host
added to the running network; destroy = `net.stop()` until the process has exited.
Mininet keeps no state outside its process, so it has no no-op check to time.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

import ipbatch
from ipbatch import TIMEOUT, Topo

PYTHON = "/usr/bin/python3"
DRIVER = Path(__file__).with_name("mininet_driver.py")


def unavailable() -> str | None:
    """Why Mininet cannot run here (one line with the error), or None when it can."""
    for tool, package in (("mnexec", "mininet"), ("brctl", "bridge-utils")):
        if shutil.which(tool) is None:
            return f"`{tool}` not found: install the Debian package {package} (make bench does)"
    probe = subprocess.run(
        [PYTHON, "-c", "import mininet.net, mininet.nodelib"],
        capture_output=True, text=True, timeout=60,
    )
    if probe.returncode != 0:
        tail = probe.stderr.strip().splitlines()[-1:] or [f"exit {probe.returncode}"]
        return f"{PYTHON} cannot import mininet: {tail[0]}"
    return None


class MininetError(RuntimeError):
    pass


class Session:
    """One Mininet network, alive while its driver process runs."""

    def __init__(self, topo: Topo) -> None:
        self.topo = topo
        self.stderr: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in close)
        self.process: subprocess.Popen[str] | None = None

    def _expect(self, what: str) -> None:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + TIMEOUT
        for line in self.process.stdout:
            if line.startswith("BENCH "):
                got = line.split(maxsplit=1)[1].strip()
                if got != what:
                    raise MininetError(f"mininet driver said {got!r}, expected {what!r}")
                return
            if time.monotonic() > deadline:
                break
        self.process.wait(timeout=60)
        self.stderr.seek(0)
        tail = self.stderr.read().strip().splitlines()[-6:]
        raise MininetError(
            f"mininet driver exited {self.process.returncode} before {what!r}: "
            + " | ".join(tail)
        )

    def _send(self, command: str) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def apply(self) -> None:
        self.process = subprocess.Popen(
            [PYTHON, str(DRIVER), str(self.topo.n), str(self.topo.bridges)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True,
        )
        self._expect("ready")

    def add(self) -> None:
        self._send("add")
        self._expect("added")

    def destroy(self) -> None:
        self._send("stop")
        self._expect("stopped")
        assert self.process is not None
        self.process.wait(timeout=TIMEOUT)

    def close(self) -> None:
        """Stop whatever is left (after a failure) and release the log file."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()


MININET_LINK = re.compile(r"^(s\d+|s\d+-eth\d+|c\d+-eth\d+)$")


def cleanup() -> None:
    """After a failure: delete the links Mininet makes (switch `sK`, ports `sK-ethJ`)."""
    links = json.loads(ipbatch.run(["ip", "-j", "link", "show"]) or "[]")
    lines = [f"link del {link['ifname']}" for link in links if MININET_LINK.match(link["ifname"])]
    if lines:
        subprocess.run(
            ["ip", "-force", "-batch", "-"], input=ipbatch.script(lines),
            capture_output=True, text=True, timeout=TIMEOUT,
        )
