"""The CI workflow a team copies: it parses, its jobs are wired as documented, and every
`netplan` command it runs exists with the options it uses."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.main import get_command

from netplan.cli import app

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "netplan.yml"


def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(data, dict)
    return data


def netplan_lines() -> list[list[str]]:
    """Every `netplan ...` command line of every `run:` step, split as a shell would."""
    found = []
    for job in workflow()["jobs"].values():
        for step in job["steps"]:
            for line in step.get("run", "").splitlines():
                line = line.strip().strip("'")
                if line.startswith("netplan ") or " netplan " in line:
                    words = shlex.split(line[line.index("netplan"):].split(" > ")[0])
                    found.append(words)
    return found


def test_workflow_parses_with_both_jobs_and_their_triggers() -> None:
    data = workflow()
    triggers = data[True]  # YAML 1.1 reads the key `on` as true
    assert {"push", "pull_request", "schedule", "workflow_dispatch"} <= set(triggers)
    assert set(data["jobs"]) == {"lab", "drift"}
    assert "schedule" in data["jobs"]["drift"]["if"]
    for job in data["jobs"].values():
        assert job["runs-on"] and job["steps"][0]["uses"].startswith("actions/checkout@")


def test_the_lab_job_changes_no_network_outside_the_sandbox() -> None:
    [step] = [s for s in workflow()["jobs"]["lab"]["steps"] if "lab up" in s.get("run", "")]
    assert step["run"].lstrip().startswith("sudo tests/sandbox.sh ")


def test_the_drift_job_pins_host_keys_and_takes_the_key_from_a_secret() -> None:
    steps = workflow()["jobs"]["drift"]["steps"]
    [keys] = [s for s in steps if "known_hosts" in s.get("run", "")]
    assert keys["env"]["SSH_KEY"] == "${{ secrets.NETPLAN_SSH_KEY }}"
    assert "vars.NETPLAN_KNOWN_HOSTS" in keys["env"]["KNOWN_HOSTS"]
    assert "trust" not in WORKFLOW.read_text()


COMMANDS = netplan_lines()


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(w[:3]) for w in COMMANDS])
def test_every_netplan_command_exists_with_its_options(words: list[str]) -> None:
    group = get_command(app)
    command: Any = group
    args = words[1:]
    while hasattr(command, "commands") and args and args[0] in command.commands:
        command, args = command.commands[args[0]], args[1:]
    assert command is not group, f"unknown command: {' '.join(words)}"
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    used = [a for a in args if a.startswith("-")]
    assert set(used) <= known, f"{' '.join(words)}: unknown options {set(used) - known}"
    formats = [args[i + 1] for i, a in enumerate(args) if a == "--format"]
    for fmt in formats:
        assert re.fullmatch(r"text|json|github|junit|dot|mermaid|svg|png", fmt)


def test_every_make_target_used_exists() -> None:
    makefile = (REPO / "Makefile").read_text()
    for job in workflow()["jobs"].values():
        for step in job["steps"]:
            for target in re.findall(r"make (\w+)", step.get("run", "")):
                assert re.search(rf"^{target}:", makefile, re.M), target
