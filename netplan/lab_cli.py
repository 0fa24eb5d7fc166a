"""`netplan lab up|down|status`: simulated hosts on this machine, for `--provider lab`."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from providers.lab import Lab

app = typer.Typer(
    name="lab",
    help="Simulated hosts on this machine (own network, mount and UTS namespaces, real sshd), "
    "on the underlay bridge labbr0 192.168.56.0/24; reach them with --provider lab.",
    no_args_is_help=True,
)

DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        envvar="NETPLAN_LAB_DIR",
        help="The lab's directory (keys, known_hosts, state). [default: /run/netplan/lab]",
        show_default=False,
    ),
]


LabLockTimeoutOption = Annotated[
    float | None,
    typer.Option("--lock-timeout", min=0, max=86400, metavar="SECONDS", show_default=False,
                 help="Wait up to SECONDS for another `netplan lab up` or `down` on this "
                 "machine to finish (0: fail at once, naming it). [default: 120]"),
]


def print_lab(lab: "Lab") -> None:
    from netplan.cli import print_styled

    if not lab.hosts:
        typer.echo(f"no lab in {lab.directory}")
        return
    width = max(len("HOST"), *(len(name) for name in lab.hosts))
    header = f"{'HOST':<{width}}  ADDRESS        STATE    PID"
    lines: list[tuple[str, str | None]] = [(header, None)]
    for name, host in lab.hosts.items():
        state, style = ("running", "green") if host.running else ("stopped", "red")
        pid = str(host.process.pid) if host.running else "-"
        lines.append((f"{name:<{width}}  {host.address:<13}  {state:<7}  {pid}", style))
    print_styled(lines)
    running = [host for host in lab.hosts.values() if host.running]
    if running:
        typer.echo(f"log in:   {lab.ssh_command(running[0])}")
        typer.echo(f"enter:    nsenter -t {running[0].process.pid} -a    (all its namespaces)")
        typer.echo("apply:    netplan apply TOPOLOGY --provider lab")


@app.command()
def up(
    hosts: Annotated[
        str | None,
        typer.Option("--hosts", help="Comma-separated host names, as in the topology's hosts:."),
    ] = None,
    count: Annotated[
        int | None, typer.Option("--count", "-n", min=1, help="hostA, hostB, … (default 2).")
    ] = None,
    directory: DirOption = None,
    lock_timeout: LabLockTimeoutOption = None,
) -> None:
    """Start the hosts (those already running are kept). One lab command at a time: a
    second waits for the first."""
    from netplan.cli import fail, reported

    with reported():
        from providers import lab
        from providers.lab_net import forwarding_note

        if hosts is not None and count is not None:
            fail(["give --hosts or --count, not both"])
        names = [n for n in hosts.split(",") if n] if hosts else lab.default_names(count or 2)
        started = lab.up(names, lab.lab_dir(directory), lock_timeout)
        print_lab(started)
        note = forwarding_note()
        if note:
            typer.echo(f"note:     {note}")


@app.command()
def down(directory: DirOption = None, lock_timeout: LabLockTimeoutOption = None) -> None:
    """Stop every lab host and remove the underlay bridge and the lab's directory."""
    from netplan.cli import reported

    with reported():
        from providers import lab

        where = lab.lab_dir(directory)
        stopped = lab.down(where, lock_timeout)
        typer.echo(f"stopped {', '.join(stopped)}" if stopped else f"no lab was running in {where}")


@app.command()
def status(
    directory: DirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the lab's hosts: address, running or stopped, and how to reach them."""
    from netplan.cli import JSON_VERSION, print_json, reported
    from netplan.output import Output

    with reported(Output("lab status", "json" if as_json else "text", None, JSON_VERSION)):
        from providers import lab

        current = lab.Lab.load(lab.lab_dir(directory))
        if as_json:
            hosts = {
                name: {"address": h.address, "running": h.running, "pid": h.process.pid}
                for name, h in current.hosts.items()
            }
            print_json({"format_version": JSON_VERSION, "directory": str(current.directory),
                        "hosts": hosts})
        else:
            print_lab(current)
