"""The `local` provider: this machine, with the agent running in-process."""

from __future__ import annotations

from typing import Any

from providers.base import HostConnection


class LocalConnection(HostConnection):
    """Calls the agent in this process with the same JSON-shaped requests a remote host
    gets (tests/unit/test_protocol_json.py keeps them JSON-clean), without encoding them."""

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        from netplan.agent.api import handle

        return handle(request)
