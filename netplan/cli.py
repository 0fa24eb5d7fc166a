"""The `netplan` command line. Exit codes: 0 ok / in sync, 1 error, 2 drift or pending changes.

Heavy modules are imported inside the commands so that `--help` starts fast. Without
`from __future__ import annotations`, here and in lab_cli.py: typer builds every command
at each start and would evaluate each parameter's annotation from its text, half of the
~9 ms that takes; a name imported only for type checking is written in quotes instead.
"""

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, NoReturn

import typer
from typer._click.exceptions import NoArgsIsHelpError, NoSuchOption, UsageError

from netplan import closed_pipes, interrupt, lab_cli
from netplan.agent import heap
from netplan.output import Output

if TYPE_CHECKING:
    from netplan.errors import Problem
    from netplan.gate.record import Source
    from netplan.outline import Outline
    from netplan.pipeline import Hosts, Record
    from netplan.plan.changes import HostPlan
    from netplan.topology_file import CacheUse, TopologyFile

app = typer.Typer(
    name="netplan",
    help="Declarative network topologies: namespaces, bridges and containers, reconciled.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
app.add_typer(lab_cli.app, name="lab")

EXIT_ERROR = 1
EXIT_DRIFT = 2
JSON_VERSION = 1
"""The format_version of validate's, show's and lab status's JSON."""


class Format(StrEnum):
    text = "text"
    json = "json"


class ReportFormat(StrEnum):
    """check's formats: people, programs, GitHub Actions annotations, JUnit XML."""

    text = "text"
    json = "json"
    github = "github"
    junit = "junit"


class Options:
    debug = False
    color = True
    quiet = False
    output: "Output | None" = None
    """What the running command was asked to print (set by `reported`)."""
    document_printed = False
    """Whether it printed its document (JSON, JUnit, GitHub annotations) yet."""


TopologyArgument = Annotated[
    Path, typer.Argument(help="The topology YAML file.", show_default=False)
]
FormatOption = Annotated[Format, typer.Option("--format", "-o", help="Output format.")]
ReportFormatOption = Annotated[
    ReportFormat, typer.Option("--format", "-o", help="Output format.")
]
"""check's and verify's --format: text, json, github, junit."""
JsonOption = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
ProviderOption = Annotated[
    str, typer.Option("--provider", "-p", help="How hosts are reached: local, ssh, vagrant, lab.")
]
InventoryOption = Annotated[
    Path | None,
    typer.Option(
        "--inventory",
        "-i",
        help="ssh: the inventory file; vagrant: the Vagrantfile (default ./Vagrantfile); "
        "lab: the lab's directory.",
        show_default=False,
    ),
]
ForksOption = Annotated[int, typer.Option("--forks", "-f", min=1, help="Hosts worked on at once.")]
LockTimeoutOption = Annotated[
    float,
    typer.Option("--lock-timeout", min=0, max=86400, metavar="SECONDS",
                 help="Wait up to SECONDS for another netplan apply or destroy on a host "
                 "to finish (0: fail at once, naming who holds the host)."),
]
NoRollbackOption = Annotated[
    bool,
    typer.Option("--no-rollback", help="When a step fails or the run is interrupted, keep "
                 "the steps done on that host instead of undoing them."),
]
ReplaceOption = Annotated[
    bool,
    typer.Option("--replace", help="Act on the topology even if its last apply was made "
                 "from another file that still declares its name (take it over from that "
                 "file)."),
]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (implied without a TTY).")
]


DISTRIBUTION = "netplan-topology"
"""This netplan's name on PyPI, where "netplan" is another project's."""


def print_version(asked: bool) -> None:
    """`netplan --version`: which netplan answers, next to Ubuntu's /usr/sbin/netplan."""
    if not asked:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        number = version(DISTRIBUTION)
    except PackageNotFoundError:
        number = "(not installed: run from a checkout)"
    place = Path(__file__).resolve().parent
    typer.echo(f"netplan {number}: declarative network topologies ({DISTRIBUTION}), at {place}")
    raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="Plain text on a terminal too (as NO_COLOR=1 does).")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only errors and the one-line result "
                           "(text output; exit codes unchanged).")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also each stage with its time and each "
                           "step as it runs, on stderr.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=print_version, is_eager=True,
                           help="Print which netplan this is (not Ubuntu's) and exit.")
    ] = False,
) -> None:
    """Progress (per host: stage, steps done/total) is shown on stderr when stdout and
    stderr are terminals; never in pipes and CI logs."""
    from netplan import progress

    if quiet and verbose:
        fail(["--quiet and --verbose exclude each other"])
    Options.debug = debug
    Options.color = not no_color and not os.environ.get("NO_COLOR")
    Options.quiet = quiet
    if not quiet:
        chosen = progress.choose(verbose, Options.color)
        progress.use(chosen)
        ctx.call_on_close(chosen.close)


def fail(lines: list[str], problems: "list[Problem] | None" = None) -> NoReturn:
    """Exit 1 with one `error:` line on stderr per line; first, for a command asked for a
    machine-readable format, its errors as a document of that format (`problems`: the
    lines with their places, where known)."""
    from netplan.errors import Problem

    print_error_document(problems or [Problem.of_line(line) for line in lines])
    for line in lines:
        typer.echo(f"error: {line}", err=True)
    raise typer.Exit(EXIT_ERROR)


def print_error_document(problems: "list[Problem]") -> None:
    """The errors as a JSON, JUnit or GitHub document on stdout, when the command was asked
    for one and has printed none (its result, which names its failed hosts, comes first)."""
    output = Options.output
    if output is None or not output.machine_readable or Options.document_printed:
        return
    from netplan.error_document import render_errors

    print_document(render_errors(output, problems))


@contextmanager
def reported(output: "Output | None" = None) -> Iterator[None]:
    """Turn every error into one line per problem and exit code 1; a traceback only with
    --debug. A command that prints `output` in a machine-readable format prints its errors
    in that format too (netplan/error_document.py)."""
    from netplan.errors import NetplanError

    Options.output, Options.document_printed = output, False
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except NetplanError as exc:
        if Options.debug:
            print_error_document(exc.as_problems())
            raise
        fail(exc.lines(), exc.as_problems())
    except KeyboardInterrupt as stop:
        fail(stop.lines() if isinstance(stop, interrupt.Stopped) else ["interrupted"])
    except Exception as exc:
        if Options.debug:
            raise
        fail([f"internal error: {type(exc).__name__}: {exc} (hint: run with --debug for details)"])
    finally:
        Options.output = None


def wants_json(fmt: Format, as_json: bool) -> bool:
    return as_json or fmt is Format.json


def print_json(data: Any) -> None:
    print_document(json.dumps(data, indent=2, default=str))


def print_document(text: str) -> None:
    """The command's document (JSON, JUnit XML, GitHub annotations) on stdout."""
    typer.echo(text)
    Options.document_printed = True


def print_styled(lines: list[tuple[str, str | None]]) -> None:
    """Colours on a terminal; plain text in one write elsewhere (CI logs, pipes), which
    also keeps a 2,000-line plan from costing half a second."""
    if not sys.stdout.isatty() or not Options.color:
        sys.stdout.write("".join(f"{text}\n" for text, _ in lines))
        return
    from rich.console import Console
    from rich.text import Text

    output = Text()
    for text, style in lines:
        output.append(text + "\n", style=style or "")
    Console(highlight=False, soft_wrap=True).print(output, end="")


def confirm(question: str, yes: bool) -> None:
    if yes or not sys.stdin.isatty():
        return
    if not typer.confirm(question, default=False):
        typer.echo("nothing was changed")
        raise typer.Exit(EXIT_ERROR)


@app.command()
def validate(
    file: TopologyArgument, fmt: FormatOption = Format.text, as_json: JsonOption = False
) -> None:
    """Check a topology file without touching any host."""
    with reported(Output("validate", "json" if as_json else fmt, file, JSON_VERSION)):
        from netplan.topology.loader import load_topology

        topology = load_topology(file)
        counts = {k: len(getattr(topology, k)) for k in ("hosts", "networks", "containers")}
        if wants_json(fmt, as_json):
            print_json({"format_version": JSON_VERSION, "file": str(file), "valid": True,
                        **counts})
        else:
            typer.echo(f"{file}: valid ({counted(counts['networks'], 'network')}, "
                       f"{counted(counts['containers'], 'container')}, "
                       f"{counted(counts['hosts'], 'host')})")  # fmt: skip


@app.command()
def schema() -> None:
    """Print the JSON Schema of topology files (for editors: yaml-language-server)."""
    with reported():
        from netplan.topology.schema import json_schema

        print_json(json_schema())


class HostsFrom(NamedTuple):
    """Where a command's hosts come from: --provider, --inventory, --forks."""

    provider: str
    inventory: Path | None
    forks: int


class Guard(NamedTuple):
    """How apply and destroy guard the hosts: --lock-timeout, --no-rollback, --confirm,
    --replace."""

    lock_timeout: float = 0.0
    rollback: bool = True
    confirm: float | None = None
    replace: bool = False
    """Take the topology over from another file that still declares it
    (netplan/gate/other_file.py)."""


def run_plan(
    file: Path, hosts_from: HostsFrom, destroy: bool, lock: str | None = None,
    lock_timeout: float = 0.0, use: "CacheUse | None" = None, records: "Record | None" = None,
) -> "tuple[TopologyFile, Hosts, dict[str, HostPlan]]":  # fmt: skip
    """Open the file, connect, (with `lock`, the command that locks: take each host's
    lock,) observe and plan; through the compile cache as `use` says (default: none);
    each host's last-applied record is read with its observation as `records` says
    (default: not).

    When the outline is known before the model is loaded (the cache's, or its guess),
    the hosts are observed while the file loads; a guess that loading proves wrong (the
    edit changed the hosts or what to observe) is observed again with the file's."""
    from netplan import pipeline
    from netplan.topology_file import CacheUse, TopologyFile

    opened = TopologyFile(file, use or CacheUse.NONE)
    records = records or pipeline.Record.NONE
    while True:
        outline = opened.outline
        hosts = pipeline.connect_hosts(outline, *hosts_from)
        try:
            request = None
            if lock is not None:
                from netplan.hostlock import LockRequest

                request = LockRequest(lock, lock_timeout)
                pipeline.lock(outline, hosts, request)
            if opened.needs_model(compiles=not destroy):
                load = partial(opened.load, compiles=not destroy)
                observed, _ = pipeline.observe_beside(outline, hosts, load, records)
            else:
                observed = pipeline.observe(outline, hosts, records=records)
            if opened.outline == outline:
                pipeline.join_departed(outline, hosts, observed, hosts_from.provider,
                                       hosts_from.inventory, request)  # fmt: skip
                desired = {} if destroy else opened.desired(observed)
                return opened, hosts, pipeline.plan(desired, observed)
        except BaseException:
            hosts.close()
            raise
        hosts.close()


def failed_json(hosts: Any) -> dict[str, Any]:
    return {
        "failed": {
            name: {"stage": failure.stage, "errors": failure.error.lines()}
            for name, failure in hosts.failed.items()
        }
    }


def fail_hosts(outline: "Outline", hosts: "Hosts") -> None:
    """Exit 1 with each failed host's error, in the topology's order, once the other hosts'
    results are out."""
    failed = [hosts.failed[name] for name in hosts.names(outline) if name in hosts.failed]
    if failed:
        fail([line for failure in failed for line in failure.error.lines()])


def show_plans(
    outline: "Outline", hosts: "Hosts", plans: "dict[str, HostPlan]", as_json: bool
) -> None:
    from netplan.report import plans_json, render_plans

    if as_json:
        print_json({**plans_json(outline.name, plans), **failed_json(hosts)})
    elif Options.quiet:
        from netplan.report import plan_line

        typer.echo(plan_line(plans))
    else:
        print_styled(render_plans(plans))


@app.command()
def plan(
    file: TopologyArgument,
    provider: ProviderOption = "local",
    inventory: InventoryOption = None,
    forks: ForksOption = 10,
    fmt: FormatOption = Format.text,
    as_json: JsonOption = False,
    destroy: Annotated[bool, typer.Option("--destroy", help="Plan removing everything.")] = False,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Save the plan (for `netplan apply PLAN`).", show_default=False),
    ] = None,
) -> None:
    """Show what apply would change, and why. Changes nothing."""
    from netplan.report import FORMAT_VERSION

    with reported(Output("plan", "json" if as_json else fmt, file, FORMAT_VERSION)):
        from netplan.topology_file import CacheUse

        opened, hosts, plans = run_plan(file, HostsFrom(provider, inventory, forks), destroy,
                                        use=CacheUse.OUTLINE)  # fmt: skip
        hosts.close()
        show_plans(opened.outline, hosts, plans, wants_json(fmt, as_json))
        fail_hosts(opened.outline, hosts)
        from netplan.pipeline import refuse_conflicts

        refuse_conflicts(plans)  # apply would refuse it: not a plan to pass, nor to save
        if out is not None:
            from netplan.gate.commands import save_plan

            save_plan(opened, out, plans, destroy, quiet=wants_json(fmt, as_json))
        if detailed_exitcode and not all(p.empty for p in plans.values()):
            raise typer.Exit(EXIT_DRIFT)


@interrupt.guarded()
def converge(
    file: Path, hosts_from: HostsFrom, yes: bool, as_json: bool, destroy: bool,
    guard: Guard = Guard(),
) -> None:  # fmt: skip
    """apply and destroy: lock, plan, confirm, execute (rolled back on a host where it
    fails), verify that a new plan is empty, and with --confirm keep the change or revert.

    With --json, one object: the plan, what was done (`applied`, `steps`, `seconds`) and
    each host's result. A host that fails does not stop the others; the exit code is 1.
    A stop signal (netplan/interrupt.py) before the steps changes nothing; while they
    run, each host rolls back; after them, each host says it is done but not verified."""
    from netplan import pipeline
    from netplan.errors import NetplanError
    from netplan.report import plans_json, render_plans
    from netplan.rollback import Transaction, stop_after_steps
    from netplan.summary import host_results, results_json
    from netplan.topology_file import CacheUse

    verb = "destroy" if destroy else "apply"
    opened, hosts, plans = run_plan(file, hosts_from, destroy, verb, guard.lock_timeout,
                                    CacheUse.OUTLINE, pipeline.Record.SOURCE)  # fmt: skip
    outline = opened.outline
    with hosts:
        refuse_other_files(outline.name, opened.source, hosts, verb, guard)
        in_sync = all(p.empty for p in plans.values())
        if not as_json and not Options.quiet:
            print_styled(render_plans(plans))
        steps = sum(len(p.steps) for p in plans.values())
        elapsed = 0.0
        after = {name: plan.observed for name, plan in plans.items()}
        stopped: interrupt.Stopped | None = None
        if not in_sync:
            pipeline.refuse_conflicts(plans)
            if as_json and not yes and sys.stdin.isatty():
                shows = f"netplan plan{' --destroy' if destroy else ''} {file}"
                raise NetplanError(
                    f"{verb} --json asks no question: its stdout is the JSON document (hint: "
                    f"{shows} shows the changes; then netplan {verb} {file} --json --yes)"
                )
            confirm(f"{verb.capitalize()} these changes?", yes)
            started = time.perf_counter()
            with stop_after_steps(outline, hosts, plans, guard.confirm is not None,
                                  unverified_hint(file, destroy)) as run:  # fmt: skip
                transaction = Transaction(guard.rollback, guard.confirm, verb)
                pending = pipeline.execute(outline, plans, hosts, transaction)
                after = pipeline.verify(outline, hosts, plans)
                if pending:
                    keep_or_revert(outline, hosts, plans, pending, yes, guard.confirm)
            elapsed, stopped = time.perf_counter() - started, run.stopped
        with interrupt.recording(verb):  # not cut short; a stop after it stops nothing
            from netplan.gate.commands import remember

            recorded = remember(outline, opened.source, plans, hosts, destroy)
            if not destroy:
                desired = {name: plans[name].desired for name in outline.hosts if name in plans}
                opened.applied(not in_sync, desired,
                               pipeline.settled(outline, hosts, after, recorded))
            results = host_results(hosts.names(outline), plans, hosts.failed)
            if as_json:
                applied = not in_sync and not hosts.failed and stopped is None
                result = {"applied": applied, "steps": steps, "seconds": round(elapsed, 3)}
                print_json({**plans_json(outline.name, plans), **result, **results_json(results)})
            else:
                target = f"topology '{outline.name}'" if destroy else str(file)
                print_outcome(target, verb, results, in_sync, (steps, elapsed), stopped)
    fail_hosts(outline, hosts)
    fail_if_stopped(stopped)


def refuse_other_files(
    topology: str, source: "Source", hosts: "Hosts", verb: str, guard: Guard
) -> None:  # fmt: skip
    """Before anything is changed: refuse a topology another file still holds, unless
    --replace (netplan/gate/other_file.py)."""
    if guard.replace:
        return
    from netplan.gate.other_file import refuse_other_files as refuse

    refuse(topology, source, hosts.sources, verb)


def unverified_hint(topology: Path, destroy: bool) -> str:
    """How to find out what hosts whose steps ran, but were not verified, have now."""
    if destroy:
        return f"`netplan plan --destroy {topology}` lists what is left"
    return f"run `netplan check {topology}`"


def fail_if_stopped(stopped: interrupt.Stopped | None) -> None:
    """Exit 1 after a stop signal that stopped the steps or their verification. One that
    came as the command recorded what it did, or later, stopped nothing: `main` notes it."""
    if stopped is not None:
        fail(stopped.lines())


def keep_or_revert(
    outline: "Outline", hosts: "Hosts", plans: "dict[str, HostPlan]", pending: list[str], yes: bool,
    seconds: float | None,
) -> None:  # fmt: skip
    """apply --confirm, once verified: keep the change (asked on a terminal unless --yes,
    with the hosts' deadline as the time to answer) or revert it now."""
    from netplan.rollback import confirm_hosts

    keep = True
    if not yes and sys.stdin.isatty() and hosts:
        keep = ask_in_time(f"Keep these changes? The hosts revert them in {seconds:g} s "
                           f"without an answer [y/N] ", seconds or 0)  # fmt: skip
    confirm_hosts(outline, hosts, plans, pending, keep)


def ask_in_time(question: str, seconds: float) -> bool:
    """A yes/no question on the terminal; no answer within `seconds` is no."""
    import select

    typer.echo(question, nl=False)
    ready, _, _ = select.select([sys.stdin], [], [], seconds)
    if not ready:
        typer.echo("\nno answer in time")
        return False
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def print_outcome(
    target: str, verb: str, results: list[Any], in_sync: bool, work: tuple[int, float],
    stopped: interrupt.Stopped | None = None,
) -> None:  # fmt: skip
    """The table of host results (several hosts, or a failure), then one line. `target`:
    what the hosts now match (`topology.yaml`), or what is gone (`topology 'lab'`)."""
    from netplan.summary import render_results

    steps, elapsed = work
    failed = [r for r in results if r.errors]
    if (len(results) > 1 or failed) and not Options.quiet:
        typer.echo("\n".join(render_results(results)))
    reached = "nothing of it is left" if verb == "destroy" else f"the hosts match {target}"
    if stopped is not None:
        typer.echo(f"{verb.capitalize()} interrupted ({stopped.why}): each host's errors say "
                   f"what it has now.")  # fmt: skip
    elif failed and len(results) == 1:
        typer.echo(f"{verb.capitalize()} failed on host {failed[0].host}; run it again once "
                   "it is fixed.")  # fmt: skip
    elif failed:
        typer.echo(
            f"{verb.capitalize()} incomplete: {len(failed)} of {len(results)} hosts failed, "
            f"the others are done; run it again once they are fixed."
        )
    elif in_sync:
        already = f"nothing of {target} is on the hosts" if verb == "destroy" else reached
        typer.echo(f"Nothing to {verb}: {already}.")
    else:
        typer.echo(
            f"{verb.capitalize()} complete: {counted(steps, 'step')} on "
            f"{counted(len(results), 'host')} in {elapsed:.2f} s; verified: {reached}."
        )


def counted(number: int, noun: str) -> str:
    """`1 host`, `2 hosts`."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


@app.command()
def apply(
    file: TopologyArgument,
    provider: ProviderOption = "local",
    inventory: InventoryOption = None,
    forks: ForksOption = 10,
    yes: YesOption = False,
    fmt: FormatOption = Format.text,
    as_json: JsonOption = False,
    run_checks: Annotated[
        bool, typer.Option("--verify", help="Then run the topology's reachability checks.")
    ] = False,
    lock_timeout: LockTimeoutOption = 0.0,
    no_rollback: NoRollbackOption = False,
    replace: ReplaceOption = False,
    confirm_in: Annotated[
        float | None,
        typer.Option("--confirm", min=1, max=3600, metavar="SECONDS", show_default=False,
                     help="Each host reverts the change by itself after SECONDS unless "
                     "netplan confirms it (after verifying; on a terminal, after you say yes): "
                     "a change that cuts the way to a host heals itself."),
    ] = None,
) -> None:
    """Make the hosts match the topology file (or a plan saved by plan --out), then verify.

    A saved plan runs exactly its steps, and is refused if a host changed since."""
    from netplan.report import FORMAT_VERSION

    with reported(Output("apply", "json" if as_json else fmt, file, FORMAT_VERSION)):
        from netplan.gate.saved import read_saved_plan

        hosts_from = HostsFrom(provider, inventory, forks)
        guard = Guard(lock_timeout, not no_rollback, confirm_in, replace)
        saved = read_saved_plan(file)
        if run_checks and (saved is not None or wants_json(fmt, as_json)):
            fail(["apply --verify takes a topology file and prints a table (hint: run "
                  "`netplan verify TOPOLOGY [--format json]` after the apply)"])
        if saved is not None:
            from netplan.gate.commands import apply_saved

            apply_saved(file, saved, hosts_from, yes, wants_json(fmt, as_json), guard)
            return
        converge(file, hosts_from, yes, wants_json(fmt, as_json), destroy=False, guard=guard)
        if run_checks:
            from netplan import pipeline

            late = interrupt.release()
            if late is not None:
                fail([f"interrupted ({interrupt.describe(late)}) before the checks: the apply "
                      f"was done and recorded (hint: run `netplan verify {file}`)"])  # fmt: skip
            from netplan.topology_file import TopologyFile

            opened = TopologyFile(file)
            with pipeline.connect_hosts(opened.outline, *hosts_from) as hosts:
                run_verify(opened, hosts, ReportFormat.text)


@app.command()
def destroy(
    file: TopologyArgument,
    provider: ProviderOption = "local",
    inventory: InventoryOption = None,
    forks: ForksOption = 10,
    yes: YesOption = False,
    fmt: FormatOption = Format.text,
    as_json: JsonOption = False,
    lock_timeout: LockTimeoutOption = 0.0,
    no_rollback: NoRollbackOption = False,
    replace: ReplaceOption = False,
) -> None:
    """Remove everything the topology owns on its hosts, and nothing else."""
    from netplan.report import FORMAT_VERSION

    with reported(Output("destroy", "json" if as_json else fmt, file, FORMAT_VERSION)):
        hosts_from = HostsFrom(provider, inventory, forks)
        converge(file, hosts_from, yes, wants_json(fmt, as_json), destroy=True,
                 guard=Guard(lock_timeout, not no_rollback, replace=replace))  # fmt: skip


@app.command()
def check(
    file: TopologyArgument,
    provider: ProviderOption = "local",
    inventory: InventoryOption = None,
    forks: ForksOption = 10,
    fmt: ReportFormatOption = ReportFormat.text,
    as_json: JsonOption = False,
) -> None:
    """Exit 0 when the hosts match the file, 2 on drift or pending changes, 1 on error.

    Each difference is named with its class: drift (the host changed since the last apply)
    or pending (the file did). Formats: text, json, github (annotations), junit."""
    from netplan.gate.json_report import FORMAT_VERSION

    chosen = ReportFormat.json if as_json else fmt
    with reported(Output("check", chosen, file, FORMAT_VERSION)):
        from netplan.gate.commands import check as run_check

        run_check(file, HostsFrom(provider, inventory, forks), chosen)


@app.command()
def show(
    file: Annotated[
        Path | None, typer.Argument(help="Topology file (for its name and hosts).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Topology name.")] = None,
    provider: ProviderOption = "local",
    inventory: InventoryOption = None,
    forks: ForksOption = 10,
    fmt: FormatOption = Format.text,
    as_json: JsonOption = False,
) -> None:
    """Print what the hosts have that the topology owns, as a topology file."""
    with reported(Output("show", "json" if as_json else fmt, file, JSON_VERSION)):
        import yaml

        from netplan import pipeline
        from netplan.errors import NetplanError
        from netplan.show import observed_topology
        from netplan.topology_file import TopologyFile, bare_outline

        if file is not None:
            outline = TopologyFile(file).outline
        elif name is not None:
            from providers import every_host

            outline = bare_outline(name, every_host(provider, inventory))
        else:
            raise NetplanError("show needs a topology file or --name NAME")
        with pipeline.connect_hosts(outline, provider, inventory, forks) as hosts:
            observed = pipeline.observe(outline, hosts, hosts_text=True)  # aliases
        if not hosts.failed and not any(state.resources for state in observed.values()):
            where = ", ".join(observed) or "no host"
            how = f"netplan apply {file}" if file is not None else "check the name"
            raise NetplanError(f"topology '{outline.name}' has nothing on {where}: never "
                               f"applied there, or destroyed (hint: {how})")
        shown = observed_topology(outline.name, observed)
        if wants_json(fmt, as_json):
            print_json({"format_version": JSON_VERSION, "topology": shown, **failed_json(hosts)})
        elif not hosts.failed:  # part of a topology printed as if it were all of it: no
            typer.echo(yaml.safe_dump(shown, sort_keys=False), nl=False)
        fail_hosts(outline, hosts)


@app.command()
def verify(
    file: TopologyArgument,
    provider: ProviderOption = "local",
    inventory: InventoryOption = None,
    forks: ForksOption = 10,
    fmt: ReportFormatOption = ReportFormat.text,
    as_json: JsonOption = False,
) -> None:
    """Run the topology's reachability checks from inside its namespaces; exit 1 if any fails."""
    from netplan.reachability.report import FORMAT_VERSION

    chosen = ReportFormat.json if as_json else fmt
    with reported(Output("verify", chosen, file, FORMAT_VERSION)):
        from netplan import pipeline
        from netplan.topology_file import TopologyFile

        opened = TopologyFile(file)
        with pipeline.connect_hosts(opened.outline, provider, inventory, forks) as hosts:
            run_verify(opened, hosts, chosen)


def run_verify(opened: "TopologyFile", hosts: "Hosts", fmt: ReportFormat) -> None:
    """Run the checks on open hosts, print them in `fmt`; exit 1 if any failed."""
    from netplan.reachability import report
    from netplan.reachability.verify import check_positions, verify_checks

    file, topology = opened.path, opened.topology
    results = verify_checks(topology, str(file), opened.outline, hosts)
    if fmt is ReportFormat.json:
        print_json({**report.report_json(topology.name, str(file), results),
                    **failed_json(hosts)})
    elif fmt is ReportFormat.github:
        print_document("\n".join(report.render_github(str(file), results,
                                                       check_positions(file, topology))))
    elif fmt is ReportFormat.junit:
        print_document(report.render_junit(topology.name, str(file), results,
                                           check_positions(file, topology)))
    elif not results:
        typer.echo(f"{file} has no checks (add a `checks:` section)")
    else:
        table = report.render_table(results)
        print_styled(table[-1:] if Options.quiet else table)
    if fmt is ReportFormat.text:
        fail_hosts(opened.outline, hosts)
    if hosts.failed or not all(r.passed for r in results):
        raise typer.Exit(EXIT_ERROR)


@app.command()
def graph(
    file: TopologyArgument,
    fmt: Annotated[
        str | None, typer.Option("--format", "-T", show_default=False,
                                 help="dot, mermaid, svg or png (svg, png: Graphviz); default: "
                                 "from the --output file's suffix, else dot.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.",
                                  show_default=False)
    ] = None,
    observed: Annotated[
        bool, typer.Option("--observed", help="Draw what the hosts have; mark drift in red.")
    ] = False,
    provider: ProviderOption = "local",
    inventory: InventoryOption = None,
    forks: ForksOption = 10,
) -> None:
    """Draw the topology: hosts, networks, containers, overlay tunnels, published ports."""
    with reported():
        from netplan import pipeline
        from netplan.errors import NetplanError
        from netplan.graph.command import file_graph, observed_graph, write
        from netplan.graph.render import GraphFormat, format_of, render

        fmt = fmt or format_of(output)
        if fmt not in GraphFormat.__members__:
            raise NetplanError(f"unknown graph format {fmt!r} (hint: one of "
                               + ", ".join(GraphFormat.__members__) + ")")
        from netplan.topology_file import TopologyFile

        opened = TopologyFile(file)
        if observed:
            with pipeline.connect_hosts(opened.outline, provider, inventory, forks) as hosts:
                drawn = observed_graph(opened.topology, opened.outline, hosts)
        else:
            drawn = file_graph(opened.topology)
        write(render(drawn, GraphFormat(fmt)), output)


ContainerArgument = Annotated[
    str, typer.Argument(help="A container of the topology.", show_default=False)
]


@app.command()
def logs(
    file: TopologyArgument,
    container: ContainerArgument,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new output.")
    ] = False,
    tail: Annotated[
        int | None, typer.Option("--tail", "-n", min=0, help="Only the last N lines.")
    ] = None,
    provider: ProviderOption = "local",
    inventory: InventoryOption = None,
) -> None:
    """Print the output (stdout and stderr) of a container's process."""
    with reported():
        from netplan.logs import show_logs

        show_logs(file, container, follow, tail, provider, inventory)


@app.command(name="exec")
def exec_command(
    file: TopologyArgument,
    container: ContainerArgument,
    command: Annotated[
        list[str], typer.Argument(help="The command and its arguments, after --.",
                                  show_default=False)
    ],
    provider: ProviderOption = "local",
    inventory: InventoryOption = None,
) -> None:
    """Run a command inside a container (like docker exec): `netplan exec FILE web -- sh`.
    Exits with the command's exit code (125: netplan could not enter the container)."""
    with reported():
        from netplan.container_exec import run_exec

        code = run_exec(file, container, command, provider, inventory)
    raise typer.Exit(code)


def main() -> None:
    """The `netplan` command and `python -m netplan`. A mistyped command line (an unknown
    option or command, a missing argument, a bad value) is an error like any other: one
    line, exit 1. click's own exit code for it is 2, which `check` and `plan
    --detailed-exitcode` mean as "differences". Output to a reader that has gone is
    discarded (netplan/closed_pipes.py): the command still runs to its end."""
    closed_pipes.outlive_readers()
    heap.keep_until_exit()
    try:
        code = app(args=global_flags_first(sys.argv[1:]), standalone_mode=False)
    except NoArgsIsHelpError:
        code = EXIT_ERROR  # `netplan` or `netplan lab` alone: the help is printed
    except UsageError as error:
        typer.echo(f"error: {usage_line(error)}", err=True)
        code = EXIT_ERROR
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        code = EXIT_ERROR
    note = interrupt.exiting()
    if note is not None:
        typer.echo(f"note: {note}", err=True)
    sys.exit(code if isinstance(code, int) else 0)


GLOBAL_FLAGS = ("--debug", "--no-color", "--quiet", "--verbose")
"""The root's flags that are also taken after the command: `netplan apply FILE --debug`,
as a user types it after an error's hint. Short forms are not moved: `-v` or `-q` after
the command may be the command's own."""


def global_flags_first(args: list[str]) -> list[str]:
    """`args` with every GLOBAL_FLAGS before the command, where the root parses them;
    nothing after a `--` moves (it is `exec`'s command line)."""
    end = args.index("--") if "--" in args else len(args)
    own = args[:end]
    flags = [arg for arg in own if arg in GLOBAL_FLAGS]
    return [*flags, *(arg for arg in own if arg not in GLOBAL_FLAGS), *args[end:]]


ROOT_SHORT_FLAGS = {"-q": "--quiet", "-v": "--verbose"}
"""The root's short flags, which are not moved (GLOBAL_FLAGS): a hint says where they go."""


def usage_line(error: UsageError) -> str:
    from netplan.errors import one_line

    command = error.ctx.command_path if error.ctx is not None else "netplan"
    message = " ".join(error.format_message().split())
    hint = f"see '{command} --help'"
    if isinstance(error, NoSuchOption) and error.option_name in ROOT_SHORT_FLAGS:
        long = ROOT_SHORT_FLAGS[error.option_name]
        hint = f"{error.option_name} goes before the command, or write {long} anywhere"
    return one_line(f"{command}: {message} (hint: {hint})")
