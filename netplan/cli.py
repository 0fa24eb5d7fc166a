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
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from netplan.plan.changes import HostPlan

app = typer.Typer(
    name="netplan",
    help="Declarative network topologies: namespaces, bridges and containers, reconciled.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)

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
    str, typer.Option("--provider", "-p", help="How hosts are reached: local.")
]
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


def run_plan(file: Path, provider: str, destroy: bool) -> tuple[Any, Any, dict[str, HostPlan]]:
    from netplan import pipeline

    topology = pipeline.load(file)
    hosts = pipeline.connect_hosts(topology, provider)
    observed = pipeline.observe(topology, hosts)
    return topology, hosts, pipeline.plan(topology, observed, destroy)


def show_plans(topology: Any, plans: dict[str, HostPlan], as_json: bool) -> None:
    from netplan.report import plans_json, render_plans

    if as_json:
        print_json(plans_json(topology.name, plans))
    else:
        print_styled(render_plans(plans))


@app.command()
def plan(
    file: TopologyFile,
    provider: ProviderOption = "local",
    fmt: FormatOption = Format.text,
    as_json: JsonOption = False,
    destroy: Annotated[bool, typer.Option("--destroy", help="Plan removing everything.")] = False,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes.")
    ] = False,
) -> None:
    """Show what apply would change, and why. Changes nothing."""
    with reported():
        topology, hosts, plans = run_plan(file, provider, destroy)
        hosts.close()
        show_plans(topology, plans, wants_json(fmt, as_json))
        if detailed_exitcode and not all(p.empty for p in plans.values()):
            raise typer.Exit(EXIT_DRIFT)


def converge(file: Path, provider: str, yes: bool, as_json: bool, destroy: bool, verb: str) -> None:
    """apply and destroy: plan, confirm, execute, verify that a new plan is empty.

    With --json, one object: the plan, and what was done (`applied`, `steps`, `seconds`)."""
    from netplan import pipeline
    from netplan.report import plans_json, render_plans

    topology, hosts, plans = run_plan(file, provider, destroy)
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
        if as_json:
            result = {"applied": not in_sync, "steps": steps, "seconds": round(elapsed, 3)}
            print_json({**plans_json(topology.name, plans), **result})
        elif in_sync:
            typer.echo(f"Nothing to {verb}: the hosts already match {file}.")
        else:
            typer.echo(
                f"{verb.capitalize()} complete: {steps} steps on {len(plans)} host(s) in "
                f"{elapsed:.2f} s; verified: the hosts match {file}."
            )


@app.command()
def apply(
    file: TopologyFile,
    provider: ProviderOption = "local",
    yes: YesOption = False,
    fmt: FormatOption = Format.text,
    as_json: JsonOption = False,
) -> None:
    """Make the hosts match the topology file, then verify they do."""
    with reported():
        converge(file, provider, yes, wants_json(fmt, as_json), destroy=False, verb="apply")


@app.command()
def destroy(
    file: TopologyFile,
    provider: ProviderOption = "local",
    yes: YesOption = False,
    fmt: FormatOption = Format.text,
    as_json: JsonOption = False,
) -> None:
    """Remove everything the topology owns on its hosts, and nothing else."""
    with reported():
        converge(file, provider, yes, wants_json(fmt, as_json), destroy=True, verb="destroy")


@app.command()
def check(
    file: TopologyFile,
    provider: ProviderOption = "local",
    fmt: FormatOption = Format.text,
    as_json: JsonOption = False,
) -> None:
    """Exit 0 when the hosts match the file, 2 on drift (printing what differs), 1 on error."""
    with reported():
        topology, hosts, plans = run_plan(file, provider, destroy=False)
        hosts.close()
        in_sync = all(p.empty for p in plans.values())
        if wants_json(fmt, as_json):
            from netplan.report import plans_json

            print_json(plans_json(topology.name, plans))
        elif in_sync:
            typer.echo(f"in sync: the hosts match {file}")
        else:
            for host, host_plan in plans.items():
                for conflict in host_plan.conflicts:
                    typer.echo(f"host {host}: {conflict.what} {conflict.owner}")
                for line in host_plan.differences():
                    typer.echo(f"host {host}: {line}")
            typer.echo(f"drift: the hosts differ from {file} (netplan apply {file} repairs it)")
        if not in_sync:
            raise typer.Exit(EXIT_DRIFT)


@app.command()
def show(
    file: Annotated[
        Path | None, typer.Argument(help="Topology file (for its name and hosts).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Topology name.")] = None,
    provider: ProviderOption = "local",
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
        with pipeline.connect_hosts(topology, provider) as hosts:
            observed = pipeline.observe(topology, hosts)
        shown = observed_topology(topology.name, observed)
        if wants_json(fmt, as_json):
            print_json({"format_version": 1, "topology": shown})
        else:
            typer.echo(yaml.safe_dump(shown, sort_keys=False), nl=False)


def main() -> None:
    app()
