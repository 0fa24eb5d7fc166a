"""What a command costs before it starts: parsing its command line imports no pydantic
(tests/e2e/test_ci_gate.py checks a whole cached check).

pydantic and the model cost ~50 ms to import; a check that hits the compile cache and
`--help` need neither. typer 0.29 coerces every parameter through pydantic (hence the
`<0.29` in pyproject.toml): this is what fails if that comes back.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from netplan.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
heavy = ("pydantic", "yaml", "netplan.topology.model")
print(json.dumps([code, [name for name in heavy if name in sys.modules]]))
"""


@pytest.mark.parametrize(
    ("args", "code"),
    [(["--help"], 0), (["check", "--help"], 0), (["check", "--format", "yaml", "t.yaml"], 2)],
)
def test_a_command_line_is_parsed_without_pydantic(args: list[str], code: int) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.splitlines()[-1]) == [code, []]
