"""check's text output: one line per difference with its class, then what to do."""

from __future__ import annotations

from netplan.gate.other_file import same_file
from netplan.gate.report import CheckReport


def render_line(report: CheckReport) -> str:
    """The result in one line (`--quiet`)."""
    if report.reached_in_sync and not report.hosts:
        return "not checked: no host could be checked"
    if report.reached_in_sync:
        return render_text(report)[0][0]
    counts = {name: report.count(name) for name in ("drift", "pending", "conflict")}
    found = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    return f"not in sync: {found} (netplan check {report.source.file} names each)"


def render_text(report: CheckReport) -> list[tuple[str, str | None]]:
    """Lines with an optional rich style; host errors are printed as errors, elsewhere."""
    file = report.source.file
    lines: list[tuple[str, str | None]] = []
    for host in report.hosts:
        for conflict in host.conflicts:
            lines.append((f"host {host.host}: conflict: {conflict.what} {conflict.owner}",
                          "bold red"))  # fmt: skip
        for located in host.differences:
            d = located.difference
            style = "red" if "drift" in d.classes else "yellow"
            lines.append((f"host {host.host}: {d.label}: {d.text}", style))
    if report.reached_in_sync and not report.hosts:
        return []  # no host could be checked: their errors say why
    if report.reached_in_sync:
        which = "the hosts reached" if report.failed else "the hosts"
        return [(f"in sync: {which} match {file}", None)]
    drift, pending, conflicts = (report.count(c) for c in ("drift", "pending", "conflict"))
    if drift:
        lines.append((f"drift: {drift} difference(s): the hosts changed since the last apply "
                      f"(netplan apply {file} repairs it)", "bold"))  # fmt: skip
    if pending:
        why = _why_pending(report)
        lines.append((f"pending: {pending} difference(s): {why} (netplan plan {file} shows "
                      f"them, netplan apply {file} applies them)", "bold"))  # fmt: skip
    if conflicts:
        lines.append((f"conflict: {conflicts}: objects netplan does not own are in the way of "
                      f"{file} (apply changes nothing until they, or the file, change)",
                      "bold"))  # fmt: skip
    unrecorded = [h.host for h in report.hosts if h.record is None and not h.in_sync]
    if unrecorded:
        lines.append((f"no last-applied record on {', '.join(unrecorded)} (never applied by "
                      "this netplan, destroyed, or no apply has succeeded there yet): every "
                      "difference there counts as pending", None))  # fmt: skip
    return lines


def _why_pending(report: CheckReport) -> str:
    """The file changed since the last apply, or the last apply was made from another file
    (of the same topology name), or there was none."""
    file = report.source.file
    applied_from = {h.record.source for h in report.hosts
                    if h.record is not None and h.count("pending")}  # fmt: skip
    if not applied_from:
        return "not applied yet"
    others = sorted({other.file for other in applied_from
                     if not same_file(other.where, report.source.where)})  # fmt: skip
    if others:
        return f"the last apply was made from {', '.join(others)}, not {file}"
    return f"{file} changed since the last apply"

