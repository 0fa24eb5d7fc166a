"""The command line itself: a mistyped one is an error like any other (one line with a
hint, exit 1), help, and which netplan answers.

click exits 2 on usage errors, which is what `check` and `plan --detailed-exitcode` return
for differences: a CI job that gates on 2 must not read a typo as drift.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

import netplan
from netplan.cli import global_flags_first

CASES = [
    (["check", "--format", "yaml", "t.yaml"],
     "error: python -m netplan check: Invalid value for '--format' / '-o': 'yaml' is not one "
     "of 'text', 'json', 'github', 'junit'. (hint: see 'python -m netplan check --help')"),
    (["check"],
     "error: python -m netplan check: Missing argument 'file'. "
     "(hint: see 'python -m netplan check --help')"),
    (["chek", "t.yaml"],
     "error: python -m netplan: No such command 'chek'. Did you mean 'check', 'schema'? "
     "(hint: see 'python -m netplan --help')"),
    (["plan", "--detailed-exitcode", "--bogus", "t.yaml"],
     "error: python -m netplan plan: No such option: --bogus (Possible options: --out) "
     "(hint: see 'python -m netplan plan --help')"),
    (["validate", "t.yaml", "-q"],
     "error: python -m netplan validate: No such option: -q "
     "(hint: -q goes before the command, or write --quiet anywhere)"),
]  # fmt: skip


def netplan_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netplan", *args], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=60)  # fmt: skip


@pytest.mark.parametrize(("args", "line"), CASES)
def test_a_usage_error_is_one_line_and_exit_1(args: list[str], line: str) -> None:
    result = netplan_run(*args)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", line + "\n")


@pytest.mark.parametrize("args", [[], ["lab"]])
def test_a_command_missing_prints_the_help_and_exits_1(args: list[str]) -> None:
    result = netplan_run(*args)
    assert result.returncode == 1 and "Usage:" in result.stdout and result.stderr == ""


def test_help_exits_0() -> None:
    result = netplan_run("check", "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout


def test_version_says_which_netplan_this_is() -> None:
    """Ubuntu's /usr/sbin/netplan has the same name: --version tells them apart."""
    result = netplan_run("--version")
    place = Path(netplan.__file__).resolve().parent
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (f"netplan {version('netplan-topology')}: declarative network "
                             f"topologies (netplan-topology), at {place}\n")  # fmt: skip


@pytest.mark.parametrize(("args", "moved"), [
    (["apply", "t.yaml", "--debug"], ["--debug", "apply", "t.yaml"]),
    (["--debug", "check", "t.yaml"], ["--debug", "check", "t.yaml"]),
    (["lab", "up", "t.yaml", "--quiet", "--no-color"],
     ["--quiet", "--no-color", "lab", "up", "t.yaml"]),
    (["check", "t.yaml", "-v"], ["check", "t.yaml", "-v"]),
    (["exec", "t.yaml", "web", "--verbose", "--", "sh", "--debug"],
     ["--verbose", "exec", "t.yaml", "web", "--", "sh", "--debug"]),
])  # fmt: skip
def test_the_roots_long_flags_are_taken_after_the_command(args: list[str],
                                                          moved: list[str]) -> None:
    assert global_flags_first(args) == moved


def test_debug_after_the_command_shows_the_traceback() -> None:
    """The hint of an internal error says "run with --debug": where users type it."""
    result = netplan_run("validate", "missing.yaml", "--debug")
    assert result.returncode == 1 and "Traceback" in result.stderr
