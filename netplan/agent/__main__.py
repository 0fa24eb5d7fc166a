"""`python -m netplan.agent`: serve the JSON protocol on stdin/stdout, one request and
one response per line, until stdin closes (one persistent session per host)."""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

from netplan.agent.api import handle
from netplan.agent.state import PROTOCOL_VERSION


def _failure(message: str) -> dict[str, Any]:
    return {"version": PROTOCOL_VERSION, "ok": False, "error": {"message": message}}


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            response = handle(json.loads(line))
        except json.JSONDecodeError as error:
            response = _failure(f"request is not JSON: {error}")
        except Exception as error:  # a bug: report it, keep serving the session
            traceback.print_exc(file=sys.stderr)
            response = _failure(f"internal agent error: {error!r}")
        sys.stdout.write(json.dumps(response) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
