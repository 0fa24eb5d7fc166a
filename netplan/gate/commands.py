"""The CI gate's command bodies: check, the last-applied record after apply and destroy,
`plan --out`, and `apply` of a saved plan. Imported by netplan/cli.py only when used."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from netplan import cli, interrupt, pipeline
from netplan.compile_cache import Cache
from netplan.gate.record import Source
from netplan.gate.report import EXIT_IN_SYNC, CheckReport, build_report
from netplan.outline import HostOutline, Outline
from netplan.plan.changes import HostPlan
from netplan.plan.order import plan_host
from netplan.plan.port_clashes import publishes
from netplan.plan.publish_ips import binds_host_ips
from netplan.topology_file import CacheUse, TopologyFile

if TYPE_CHECKING:
    from netplan.agent.state import Facts
    from netplan.gate.saved import SavedPlan


def check(file: Path, hosts_from: cli.HostsFrom, fmt: str) -> None:
    """Exit 0 in sync, 2 on drift or pending changes, 1 when a host could not be checked.
    Through the compile cache: the file is loaded and compiled only when it, netplan or
    the hosts' observation changed since the check before."""
    opened, hosts, plans = cli.run_plan(file, hosts_from, destroy=False, use=CacheUse.COMPARED,
                                        records=pipeline.Record.WHOLE)  # fmt: skip
    outline = opened.outline
    with hosts:
        records = pipeline.last_applied(outline, hosts)
    report = build_report(outline.name, hosts.names(outline), opened.source, plans,
                          records, hosts.failed, opened.positions)  # fmt: skip
    print_report(report, fmt)
    cli.fail_hosts(outline, hosts)
    if report.exit_code != EXIT_IN_SYNC:
        raise typer.Exit(report.exit_code)


def print_report(report: CheckReport, fmt: str) -> None:
    if fmt == "json":
        from netplan.gate.json_report import report_json

        cli.print_json(report_json(report))
    elif fmt == "github":
        from netplan.gate.github import render_github

        cli.print_document("\n".join(render_github(report)))
    elif fmt == "junit":
        from netplan.gate.junit import render_junit

        cli.print_document(render_junit(report))
    else:
        from netplan.gate.text import render_line, render_text

        if cli.Options.quiet:
            typer.echo(render_line(report))
        else:
            cli.print_styled(render_text(report))


def remember(
    outline: Outline, source: Source, plans: dict[str, HostPlan], hosts: pipeline.Hosts,
    destroy: bool,
) -> dict[str, Facts]:  # fmt: skip
    """After apply: each host's last-applied record (what was desired, from which file),
    and the facts its observations now report (pipeline.record_applied); after destroy:
    none."""
    if destroy:
        pipeline.forget_applied(outline, hosts)
        cache = Cache.open()
        if cache is not None:
            cache.forget(outline.name)
        return {}
    desired = {name: plan.desired for name, plan in plans.items()}
    return pipeline.record_applied(outline, desired, hosts, source)


def save_plan(
    opened: TopologyFile, out: Path, plans: dict[str, HostPlan], destroy: bool,
    quiet: bool = False,
) -> None:  # fmt: skip
    from netplan.gate.saved import SavedPlan, write_saved_plan

    outline = opened.outline
    underlays = {name: spec.underlay for name, spec in outline.hosts.items()}
    saved = SavedPlan.of(outline.name, opened.source, destroy, plans, underlays)
    write_saved_plan(saved, out)
    typer.echo(f"Saved the plan to {out}: `netplan apply {out}` applies exactly these steps, "
               f"if the hosts have not changed meanwhile.", err=quiet)  # fmt: skip


@interrupt.guarded()
def apply_saved(
    path: Path, saved: SavedPlan, hosts_from: cli.HostsFrom, yes: bool, as_json: bool,
    guard: cli.Guard = cli.Guard(),
) -> None:  # fmt: skip
    """Re-observe; refuse the plan if any host moved since it was made; else run exactly
    its steps, verify against its desired state and record it as last-applied. Stop
    signals as in cli.converge."""
    from netplan.gate.saved import StalePlanError, stale_hosts
    from netplan.hostlock import LockRequest
    from netplan.report import plans_json, render_plans
    from netplan.summary import host_results, results_json

    outline = Outline(saved.topology, {
        name: HostOutline(h.underlay, ports=publishes(h.desired),
                          local_ips=binds_host_ips(h.desired))
        for name, h in saved.hosts.items()
    })
    hosts = pipeline.connect_hosts(outline, *hosts_from)
    with hosts:
        verb = "destroy" if saved.destroy else "apply"
        pipeline.lock(outline, hosts, LockRequest(verb, guard.lock_timeout))
        observed = pipeline.observe(outline, hosts, records=pipeline.Record.SOURCE)
        if hosts.failed:
            lines = [line for f in hosts.failed.values() for line in f.error.lines()]
            cli.fail([*lines, f"nothing was changed: {path} needs every one of its hosts"])
        cli.refuse_other_files(outline.name, saved.source, hosts, verb, guard)
        stale = stale_hosts(saved, observed)
        if stale:
            raise StalePlanError(path, saved.source.file, stale)
        plans = {
            name: replace(plan_host(name, host.desired, observed[name]), steps=host.steps)
            for name, host in saved.hosts.items()
        }
        in_sync = all(p.empty for p in plans.values())
        if not as_json and not cli.Options.quiet:
            cli.print_styled(render_plans(plans))
        steps, elapsed = sum(len(p.steps) for p in plans.values()), 0.0
        stopped: interrupt.Stopped | None = None
        if not in_sync:
            pipeline.refuse_conflicts(plans)
            verb = "Destroy" if saved.destroy else "Apply"
            cli.confirm(f"{verb} these changes (saved in {path})?", yes)
            elapsed, stopped = _run(outline, plans, hosts, saved, guard, yes)
        verb = "destroy" if saved.destroy else "apply"
        with interrupt.recording(verb):  # not cut short; a stop after it stops nothing
            remember(outline, saved.source, plans, hosts, saved.destroy)
            results = host_results(hosts.names(outline), plans, hosts.failed)
            if as_json:
                done: dict[str, Any] = {"applied": not in_sync, "steps": steps,
                                        "seconds": round(elapsed, 3)}  # fmt: skip
                cli.print_json({**plans_json(outline.name, plans), **done,
                                **results_json(results)})  # fmt: skip
            else:
                target = f"topology '{outline.name}'" if saved.destroy else \
                    f"the plan saved in {path} (made from {saved.source.file})"
                cli.print_outcome(target, verb, results, in_sync, (steps, elapsed), stopped)
    cli.fail_hosts(outline, hosts)
    cli.fail_if_stopped(stopped)


def _run(
    outline: Outline, plans: dict[str, HostPlan], hosts: pipeline.Hosts, saved: SavedPlan,
    guard: cli.Guard, yes: bool,
) -> tuple[float, interrupt.Stopped | None]:  # fmt: skip
    """The saved steps, verified and (--confirm) kept or reverted: how long that took,
    and the stop signal that ended it once the steps were sent."""
    from netplan.rollback import Transaction, stop_after_steps

    started, elapsed = time.perf_counter(), None
    hint = cli.unverified_hint(Path(saved.source.file), saved.destroy)
    verb = "destroy" if saved.destroy else "apply"
    with stop_after_steps(outline, hosts, plans, guard.confirm is not None, hint) as run:
        pending = pipeline.execute(outline, plans, hosts,
                                   Transaction(guard.rollback, guard.confirm, verb))  # fmt: skip
        desired = {name: host.desired for name, host in saved.hosts.items()}
        pipeline.verify_desired(outline, desired, hosts)
        elapsed = time.perf_counter() - started
        if pending:
            cli.keep_or_revert(outline, hosts, plans, pending, yes, guard.confirm)
    return elapsed or time.perf_counter() - started, run.stopped
