"""check as GitHub Actions workflow commands: an annotation on the topology file's line
for each difference (`::error` for drift, `::warning` for a pending change alone)."""

from __future__ import annotations

from netplan.gate.report import CheckReport
from netplan.github_annotations import annotation


def render_github(report: CheckReport) -> list[str]:
    file = report.source.file
    lines = []
    for host in report.hosts:
        for conflict in host.conflicts:
            lines.append(annotation("error", file, None, "conflict",
                                    f"host {host.host}: {conflict.what} {conflict.owner}"))
        for located in host.differences:
            d = located.difference
            level = "error" if "drift" in d.classes else "warning"
            lines.append(annotation(level, file, located.pos, d.label,
                                    f"host {host.host}: {d.text}"))
    for failure in report.failed.values():
        for line in failure.error.lines():
            lines.append(annotation("error", file, None, f"{failure.stage} failed", line))
    drift, pending = report.count("drift"), report.count("pending")
    if report.reached_in_sync and not report.failed:
        lines.append(f"in sync: the hosts match {file}")
    elif not report.reached_in_sync:
        lines.append(f"{drift} drifted, {pending} pending difference(s) against {file}")
    return lines
