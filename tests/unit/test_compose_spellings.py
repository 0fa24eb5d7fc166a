"""The table of Docker Compose spellings stays true to netplan's fields."""

from __future__ import annotations

import pytest

from netplan.topology.compose import DRIVER_OPTION_FIELDS, SPELLINGS, compose_hint
from netplan.topology.model import (
    Attachment,
    BridgeNetwork,
    Container,
    MacvlanNetwork,
    OverlayNetwork,
    Topology,
)

MODELS = (Topology, BridgeNetwork, OverlayNetwork, MacvlanNetwork, Container, Attachment)
FIELDS = {name for model in MODELS for name in model.model_fields}
NETWORK_FIELDS = {
    name for model in (BridgeNetwork, OverlayNetwork, MacvlanNetwork) for name in model.model_fields
}


@pytest.mark.parametrize("compose", sorted(SPELLINGS))
def test_a_compose_spelling_names_a_netplan_field(compose: str) -> None:
    spelling = SPELLINGS[compose]
    assert compose not in FIELDS, "netplan takes this name as it is: no hint needed"
    assert (spelling.field or spelling.near) in FIELDS


def test_driver_options_are_network_fields() -> None:
    assert set(DRIVER_OPTION_FIELDS) <= NETWORK_FIELDS


@pytest.mark.parametrize(("name", "fields", "hint"), [
    ("ports", Container.model_fields, "netplan calls it `publish:` (Compose's `ports:`)"),
    ("ports", Attachment.model_fields,
     "netplan calls it `publish:`, under containers.<container> (Compose's `ports:`)"),
    ("ipam", Container.model_fields, ""),
    ("colour", Container.model_fields, ""),
])  # fmt: skip
def test_the_hint_depends_on_where_the_name_is_written(
    name: str, fields: dict[str, object], hint: str
) -> None:
    homes = {"publish": "containers.<container>"}
    assert compose_hint(name, list(fields), homes) == hint
