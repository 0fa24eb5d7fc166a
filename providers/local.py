"""The `local` provider: this machine, with the agent running in-process."""

from __future__ import annotations

import json
from typing import Any

from providers.base import HostConnection


class LocalConnection(HostConnection):
    """Calls the agent in this process, through the same JSON a remote host would get."""

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        from netplan.agent.api import handle

        answer: dict[str, Any] = json.loads(json.dumps(handle(json.loads(json.dumps(request)))))
        return answer
