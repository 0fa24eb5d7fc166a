"""`netplan logs`: a container process's output, read through the host's agent from an
offset, so it works the same on this machine and over SSH; `-f` asks again every
POLL seconds from where the last answer ended, until Ctrl-C or its reader has gone."""

from __future__ import annotations

import base64
import sys
import time
from pathlib import Path
from typing import Any

from netplan.closed_pipes import reader_gone
from netplan.container_target import ContainerTarget
from netplan.errors import NetplanError
from netplan.pipeline import call
from providers.base import HostConnection

POLL = 0.5
"""Seconds between two reads of a followed log."""


def show_logs(file: Path, container: str, follow: bool, tail: int | None,
              provider: str, inventory: Path | None) -> None:
    target = ContainerTarget.find(file, container)
    if target.topology.containers[container].command is None:
        raise NetplanError(
            f"container '{container}' runs no process: it has no `command:` in {file}"
        )
    host = target.connect(provider, inventory)
    try:
        answer = read(host, target, None, tail)
        if not answer["exists"] and not follow:
            raise NetplanError(
                f"host {target.host}: container '{container}' has no output yet: its process "
                f"has not been started (hint: netplan apply {file})"
            )
        while True:
            _write(answer)
            more = answer["offset"] < answer["size"]
            if not more and (not follow or reader_gone("stdout")):
                return  # following for nobody (`logs -f | head`) would never end
            if not more:
                time.sleep(POLL)
            answer = read(host, target, answer["offset"], None)
    except KeyboardInterrupt:
        if not follow:
            raise
        # Ctrl-C is how a user stops following, as with `journalctl -f`: not an error.
    finally:
        host.close()


def read(host: HostConnection, target: ContainerTarget, offset: int | None,
         tail: int | None) -> dict[str, Any]:
    request: dict[str, Any] = {"op": "logs", "topology": target.topology.name,
                               "container": target.name, "offset": offset, "tail": tail}
    return call(host, request)


def _write(answer: dict[str, Any]) -> None:
    data = base64.b64decode(answer["data"])
    if data:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
