"""The `netplan` command line. Exit codes: 0 ok / in sync, 1 error, 2 drift or pending changes.

Heavy modules are imported inside the commands so that `--help` starts fast.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, NoReturn

import typer

from netplan import lab_cli

if TYPE_CHECKING:
    from netplan.plan.changes import HostPlan

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


class Format(StrEnum):
    text = "text"
    json = "json"


class Options:
    debug = False


TopologyFile = Annotated[Path, typer.Argument(help="The topology YAML file.", show_default=False)]
FormatOption = Annotated[Format, typer.Option("--format", "-o", help="Output format.")]
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
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (implied without a TTY).")
]


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    Options.debug = debug


def fail(lines: list[str]) -> NoReturn:
    for line in lines:
        typer.echo(f"error: {line}", err=True)
    raise typer.Exit(EXIT_ERROR)


@contextmanager
def reported() -> Iterator[None]:
    """Turn every error into one line per problem and exit code 1; a traceback only with --debug."""
    from netplan.errors import NetplanError

    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except NetplanError as exc:
        if Options.debug:
            raise
        fail(exc.lines())
    except KeyboardInterrupt:
        fail(["interrupted"])
    except Exception as exc:
        if Options.debug:
            raise
        fail([f"internal error: {type(exc).__name__}: {exc} (hint: run with --debug for details)"])


def wants_json(fmt: Format, as_json: bool) -> bool:
    return as_json or fmt is Format.json


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def print_styled(lines: list[tuple[str, str | None]]) -> None:
    """Colours on a terminal; plain text in one write elsewhere (CI logs, pipes), which
    also keeps a 2,000-line plan from costing half a second."""
    if not sys.stdout.isatty():
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
    file: TopologyFile, fmt: FormatOption = Format.text, as_json: JsonOption = False
) -> None:
    """Check a topology file without touching any host."""
    with reported():
        from netplan.topology import load_topology

        topology = load_topology(file)
        counts = {k: len(getattr(topology, k)) for k in ("hosts", "networks", "containers")}
        if wants_json(fmt, as_json):
            print_json({"format_version": 1, "file": str(file), "valid": True, **counts})
        else:
            typer.echo(
                f"{file}: valid ({counts['networks']} networks, {counts['containers']} "
                f"containers, {counts['hosts']} hosts)"
            )


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


def run_plan(
    file: Path, hosts_from: HostsFrom, destroy: bool
) -> tuple[Any, Any, dict[str, HostPlan]]:
    from netplan import pipeline

    topology = pipeline.load(file)
    hosts = pipeline.connect_hosts(topology, *hosts_from)
    observed = pipeline.observe(topology, hosts)
    return topology, hosts, pipeline.plan(topology, observed, destroy)


def failed_json(hosts: Any) -> dict[str, Any]:
    return {
        "failed": {
            name: {"stage": failure.stage, "errors": failure.error.lines()}
            for name, failure in hosts.failed.items()
        }
    }


def fail_hosts(topology: Any, hosts: Any) -> None:
    """Exit 1 with each failed host's error, in the topology's order, once the other hosts'
    results are out."""
    failed = [hosts.failed[name] for name in topology.hosts if name in hosts.failed]
    if failed:
        fail([line for failure in failed for line in failure.error.lines()])


def show_plans(topology: Any, hosts: Any, plans: dict[str, HostPlan], as_json: bool) -> None:
    from netplan.report import plans_json, render_plans

    if as_json:
        print_json({**plans_json(topology.name, plans), **failed_json(hosts)})
    else:
        print_styled(render_plans(plans))


@app.command()
def plan(
    file: TopologyFile,
    provider: ProviderOption = "local",
    inventory: InventoryOption = None,
    forks: ForksOption = 10,
    fmt: FormatOption = Format.text,
    as_json: JsonOption = False,
    destroy: Annotated[bool, typer.Option("--destroy", help="Plan removing everything.")] = False,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes.")
    ] = False,
) -> None:
    """Show what apply would change, and why. Changes nothing."""
    with reported():
        topology, hosts, plans = run_plan(file, HostsFrom(provider, inventory, forks), destroy)
        hosts.close()
        show_plans(topology, hosts, plans, wants_json(fmt, as_json))
        fail_hosts(topology, hosts)
        if detailed_exitcode and not all(p.empty for p in plans.values()):
            raise typer.Exit(EXIT_DRIFT)


def converge(file: Path, hosts_from: HostsFrom, yes: bool, as_json: bool, destroy: bool) -> None:
    """apply and destroy: plan, confirm, execute, verify that a new plan is empty.

    With --json, one object: the plan, what was done (`applied`, `steps`, `seconds`) and
    each host's result. A host that fails does not stop the others; the exit code is 1."""
    from netplan import pipeline
    from netplan.report import plans_json, render_plans
    from netplan.summary import host_results, results_json

    verb = "destroy" if destroy else "apply"
    topology, hosts, plans = run_plan(file, hosts_from, destroy)
    with hosts:
        in_sync = all(p.empty for p in plans.values())
        if not as_json:
            print_styled(render_plans(plans))
        steps = sum(len(p.steps) for p in plans.values())
        elapsed = 0.0
        if not in_sync:
            pipeline.refuse_conflicts(plans)
            confirm(f"{verb.capitalize()} these changes?", yes)
            started = time.perf_counter()
            pipeline.execute(topology, plans, hosts)
            pipeline.verify(topology, hosts, destroy)
            elapsed = time.perf_counter() - started
        results = host_results(topology.hosts, plans, hosts.failed)
        if as_json:
            result = {"applied": not in_sync, "steps": steps, "seconds": round(elapsed, 3)}
            print_json({**plans_json(topology.name, plans), **result, **results_json(results)})
        else:
            print_outcome(file, verb, results, in_sync, (steps, elapsed))
    fail_hosts(topology, hosts)


def print_outcome(
    file: Path, verb: str, results: list[Any], in_sync: bool, work: tuple[int, float]
) -> None:
    """The table of host results (several hosts, or a failure), then one line."""
    from netplan.summary import render_results

    steps, elapsed = work
    failed = [r for r in results if r.errors]
    if len(results) > 1 or failed:
        typer.echo("\n".join(render_results(results)))
    if failed:
        typer.echo(
            f"{verb.capitalize()} incomplete: {len(failed)} of {len(results)} host(s) failed, "
            f"the others are done; run it again once they are fixed."
        )
    elif in_sync:
        typer.echo(f"Nothing to {verb}: the hosts already match {file}.")
    else:
        typer.echo(
            f"{verb.capitalize()} complete: {steps} steps on {len(results)} host(s) in "
            f"{elapsed:.2f} s; verified: the hosts match {file}."
        )


@app.command()
def apply(
    file: TopologyFile,
    provider: ProviderOption = "local",
    inventory: InventoryOption = None,
    forks: ForksOption = 10,
    yes: YesOption = False,
    fmt: FormatOption = Format.text,
    as_json: JsonOption = False,
) -> None:
    """Make the hosts match the topology file, then verify they do."""
    with reported():
        hosts_from = HostsFrom(provider, inventory, forks)
        converge(file, hosts_from, yes, wants_json(fmt, as_json), destroy=False)


@app.command()
def destroy(
    file: TopologyFile,
    provider: ProviderOption = "local",
    inventory: InventoryOption = None,
    forks: ForksOption = 10,
    yes: YesOption = False,
    fmt: FormatOption = Format.text,
    as_json: JsonOption = False,
) -> None:
    """Remove everything the topology owns on its hosts, and nothing else."""
    with reported():
        hosts_from = HostsFrom(provider, inventory, forks)
        converge(file, hosts_from, yes, wants_json(fmt, as_json), destroy=True)


@app.command()
def check(
    file: TopologyFile,
    provider: ProviderOption = "local",
    inventory: InventoryOption = None,
    forks: ForksOption = 10,
    fmt: FormatOption = Format.text,
    as_json: JsonOption = False,
) -> None:
    """Exit 0 when the hosts match the file, 2 on drift (printing what differs), 1 on error."""
    with reported():
        hosts_from = HostsFrom(provider, inventory, forks)
        topology, hosts, plans = run_plan(file, hosts_from, destroy=False)
        hosts.close()
        in_sync = all(p.empty for p in plans.values())
        if wants_json(fmt, as_json):
            from netplan.report import plans_json

            print_json({**plans_json(topology.name, plans), **failed_json(hosts)})
        elif in_sync:
            which = "the hosts reached" if hosts.failed else "the hosts"
            typer.echo(f"in sync: {which} match {file}")
        else:
            for host, host_plan in plans.items():
                for conflict in host_plan.conflicts:
                    typer.echo(f"host {host}: {conflict.what} {conflict.owner}")
                for line in host_plan.differences():
                    typer.echo(f"host {host}: {line}")
            typer.echo(f"drift: the hosts differ from {file} (netplan apply {file} repairs it)")
        fail_hosts(topology, hosts)
        if not in_sync:
            raise typer.Exit(EXIT_DRIFT)


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
    with reported():
        import yaml

        from netplan import pipeline
        from netplan.errors import NetplanError
        from netplan.show import observed_topology

        if file is not None:
            topology = pipeline.load(file)
        elif name is not None:
            topology = pipeline.bare_topology(name)
        else:
            raise NetplanError("show needs a topology file or --name NAME")
        with pipeline.connect_hosts(topology, provider, inventory, forks) as hosts:
            observed = pipeline.observe(topology, hosts)
        shown = observed_topology(topology.name, observed)
        if wants_json(fmt, as_json):
            print_json({"format_version": 1, "topology": shown, **failed_json(hosts)})
        else:
            typer.echo(yaml.safe_dump(shown, sort_keys=False), nl=False)
        fail_hosts(topology, hosts)


def main() -> None:
    app()
