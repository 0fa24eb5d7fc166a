"""check's versioned JSON (docs/check.schema.json describes it)."""

from __future__ import annotations

from typing import Any

from netplan.gate.report import CheckReport, HostCheck, Located

FORMAT_VERSION = 2
"""1 was the plan's shape; 2 classifies each difference (drift, pending) and places it."""


def report_json(report: CheckReport) -> dict[str, Any]:
    hosts: dict[str, Any] = {h.host: _host(h, report.source.digest) for h in report.hosts}
    for name, failure in report.failed.items():
        hosts[name] = {"status": "failed",
                       "error": {"stage": failure.stage, "lines": failure.error.lines()}}
    return {
        "format_version": FORMAT_VERSION,
        "command": "check",
        "topology": report.topology,
        "file": report.source.file,
        "digest": report.source.digest,
        "in_sync": report.in_sync,
        "exit_code": report.exit_code,
        "counts": {c: report.count(c) for c in ("drift", "pending", "conflict")},
        "hosts": hosts,
    }


def _host(host: HostCheck, digest: str) -> dict[str, Any]:
    record = host.record
    return {
        "status": "in_sync" if host.in_sync else "differs",
        "resources": len(host.resources),
        "last_applied": None if record is None else {
            "applied_at": record.applied_at,
            "file": record.source.file,
            "digest": record.source.digest,
            "file_changed": record.source.digest != digest,
        },
        "conflicts": [{"what": c.what, "owner": c.owner} for c in host.conflicts],
        "differences": [_difference(d) for d in host.differences],
    }


def _difference(located: Located) -> dict[str, Any]:
    d = located.difference
    return {
        "key": d.key,
        "kind": d.resource.KIND,
        "description": d.resource.describe(),
        "field": d.field,
        "desired": _plain(d.desired),
        "observed": _plain(d.observed),
        "classes": list(d.classes),
        "text": d.text,
        "line": located.pos.line if located.pos else None,
        "column": located.pos.column if located.pos else None,
    }


def _plain(value: Any) -> Any:
    """JSON-native: tuples (an nft table's lines) become lists."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
