"""Never a traceback: any bytes, any YAML, any data shape gives a Topology or a TopologyError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netplan.errors import TopologyError
from netplan.topology import load_topology

FIELDS = [
    "version", "name", "hosts", "networks", "containers", "subnet", "ip_range", "gateway",
    "bridge", "mtu", "host", "driver", "ipv4", "mac", "aliases", "network_mode", "front",
    "web", "container:web", "10.0.0.0/24", "10.0.0.5", "<<",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.sampled_from(FIELDS)
)
DATA = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=5)
    ),
    max_leaves=30,
)


def fuzz(examples: int) -> settings:
    """Few examples, no example database on disk: the unit run stays fast and leaves no files."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


def load(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    try:
        load_topology(path)
    except TopologyError as exc:
        assert exc.problems
        assert all(p.file == str(path) for p in exc.problems)


@fuzz(30)
@given(content=st.binary(max_size=300))
def test_any_bytes(tmp_path: Path, content: bytes) -> None:
    load(tmp_path / "topo.yaml", content)


@fuzz(60)
@given(
    content=st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#,?%@ \n\t1.~<")), max_size=120)
)
def test_yaml_punctuation(tmp_path: Path, content: str) -> None:
    load(tmp_path / "topo.yaml", content.encode())


@fuzz(40)
@given(data=st.dictionaries(st.sampled_from(FIELDS), DATA, max_size=6))
def test_any_data_shape(tmp_path: Path, data: dict[str, Any]) -> None:
    load(tmp_path / "topo.yaml", yaml.safe_dump({"name": "fuzz", **data}).encode())
