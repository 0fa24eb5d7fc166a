"""nftables tables netplan owns: `<family> netplan_<topology>` (the name is the marker).

A table is written whole, replaced in one transaction by one `nft -f -`, and read back
with `nft -j` into the canonical text the controller renders (netplan/firewall/rules.py):
`chain: rule` as `nft list` prints it. Anything in the table that netplan does not write
reads back as text no rendering produces, so it is drift, and so does a table flag (a
`dormant` table is kept but evaluates nothing). Other tables are never touched; of them,
only the other netplan topologies' inet tables are read, when asked, for the ports they
publish (netplan/agent/ports.py). (pyroute2's nftables module does not read the kernel's
answers inside a transaction, so errors would vanish: nft it is; the table names and
flags are listed through nfnetlink directly, without starting a process.)

nft 1.0.6 (Debian 12) prints the JSON of a table with one flag from freed memory: any
text as its flags, or output cut off after `"flags": `, which ends the whole listing. So
a table with flags is listed chain by chain (`nft -j list chain` prints no table object):
its chains and rules, without its sets or other objects, which is enough, as its flags
are drift already and the update replaces the table whole.
"""

from __future__ import annotations

import json
import struct
import subprocess
from typing import Any

from netplan.agent import rtnl
from netplan.agent.errors import AgentFailure
from netplan.agent.nlmsg import (
    NETLINK_NETFILTER,
    NFNL_SUBSYS_NFTABLES,
    NFT_MSG_GETTABLE,
    NFTA_TABLE_FLAGS,
    NFTA_TABLE_NAME,
    nfgenmsg,
)
from netplan.agent.resources import NftTable, nft_table_name
from netplan.agent.session import Session

FAMILIES = {1: "inet", 7: "bridge"}
"""The families netplan writes tables in, by NFPROTO_* number."""

_QUOTED = ("iifname", "oifname")
"""Meta keys whose values nft prints in double quotes."""

_BARE = (*_QUOTED, "iifgroup", "oifgroup")
"""Meta keys nft prints without `meta` before them."""
TABLE_FLAGS = {0x1: "dormant", 0x2: "owner", 0x4: "persist"}
"""NFT_TABLE_F_*: netplan writes none of them."""
_BE32 = struct.Struct("!I")


class NftFailed(ValueError):
    """nft refused a transaction (or is missing): one line saying why."""


class TableUnreadable(AgentFailure):
    """A table nft would not list, or listed as something that is not JSON: one line
    naming the table, with a hint."""

    def __init__(self, family: str, name: str, why: str) -> None:
        super().__init__(f"cannot read nft table {family} {name}: {why} (hint: look at it "
                         f"with 'nft list table {family} {name}'; if it cannot be put right by "
                         f"hand, delete it with 'nft delete table {family} {name}' and apply "
                         "again)")


Tables = dict[tuple[str | None, str | None], int]
"""(family, name) of nftables tables, with their flags: what `tables()` lists."""


def observe(topology: str, present: Tables | None = None) -> list[NftTable]:
    """The topology's tables, in canonical form. Which tables exist is read through
    netlink (no process, and no need for nft where there are none: `present`, if that
    was read already); only the content of ours is read with `nft -j`."""
    name = nft_table_name(topology)
    present = tables() if present is None else present
    return [
        canonical(family, name, table_objects(family, name, flags), flags)
        for family in FAMILIES.values()
        if (flags := present.get((family, name))) is not None
    ]


def others(topology: str, present: Tables) -> dict[str, NftTable]:
    """By topology, the inet tables of the other netplan topologies among `present`
    (their published ports are taken: netplan/agent/ports.py). Read only, and only these:
    one `nft -j` each. A table deleted meanwhile (its topology destroyed while this one
    is only observed) is left out."""
    prefix = nft_table_name("")
    ours = nft_table_name(topology)
    found = {}
    for family, name in sorted(present, key=str):
        if family != "inet" or name is None or not name.startswith(prefix) or name == ours:
            continue
        try:
            listed = table_objects(family, name, present[(family, name)])
        except TableUnreadable:
            if (family, name) in tables():
                raise
            continue
        found[name.removeprefix(prefix)] = canonical(family, name, listed)
    return found


def table_objects(family: str, name: str, flags: int) -> list[dict[str, Any]]:
    """The table's objects as `nft -j` lists them; with `flags` (as tables() read them),
    its chains and rules only, chain by chain (the module docstring says why).
    TableUnreadable if nft fails or prints what is not JSON."""
    if not flags:
        return _listed(family, name, "table", family, name)
    chains = [item["chain"]["name"] for item in _listed(family, name, "chains", family)
              if "chain" in item and item["chain"].get("table") == name]
    return [item for chain in chains
            for item in _listed(family, name, "chain", family, name, chain)]


def _listed(family: str, name: str, *what: str) -> list[dict[str, Any]]:
    """`nft -j list WHAT...`, run to read table `family name`."""
    try:
        return _nft("-j", "list", *what)
    except NftFailed as failed:
        raise TableUnreadable(family, name, str(failed)) from failed
    except json.JSONDecodeError as error:
        raise TableUnreadable(family, name, f"'nft -j list {' '.join(what)}' printed what is "
                              f"not JSON ({error.msg}: character {error.pos})") from error


_TABLES = rtnl.dump((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, nfgenmsg())


def tables() -> Tables:
    """(family, name) of every table of this network namespace, any family, with its
    flags (NFT_TABLE_F_*; read here because nft's JSON does not say them reliably: 1.0.6
    prints them from freed memory)."""
    sock = rtnl.Rtnl(NETLINK_NETFILTER)
    try:
        return {(FAMILIES.get(reply.body[0]), reply.string(NFTA_TABLE_NAME)): _flags(reply)
                for reply in sock.dump(_TABLES)}
    finally:
        sock.close()


def _flags(reply: rtnl.Reply) -> int:
    raw = reply.attrs.get(NFTA_TABLE_FLAGS)
    return int(_BE32.unpack_from(raw)[0]) if raw else 0


def create(session: Session, table: NftTable) -> None:
    _load(script(table))


def update(session: Session, table: NftTable, fields: tuple[str, ...]) -> None:
    """Any change replaces the whole table, atomically."""
    _load(script(table))


def delete(session: Session, table: NftTable) -> None:
    head = f"table {table.family} {table.name}"
    _load(f"{head} {{}}\ndelete {head}\n")


def script(table: NftTable) -> str:
    """`nft -f` input replacing the table in one transaction (it is declared first, so
    that the delete cannot fail)."""
    head = f"table {table.family} {table.name}"
    lines = [f"{head} {{}}", f"delete {head}", f"{head} {{"]
    for chain in table.chains:
        name, _, spec = chain.partition(": ")
        lines += [f"\tchain {name} {{", f"\t\t{spec};"]
        lines += [
            f"\t\t{rule.partition(': ')[2]}" for rule in table.rules if rule.startswith(name + ": ")
        ]
        lines.append("\t}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def canonical(family: str, name: str, listing: list[dict[str, Any]],
              flags: int = 0) -> NftTable:
    """`nft -j list table` output and the table's flags → the table in canonical text,
    rules grouped by chain in the order the chains are listed."""
    chains: list[str] = []
    rules: dict[str, list[str]] = {}
    extra: list[str] = [f"? table flags {_flag_names(flags)}"] if flags else []
    for item in listing:
        if "chain" in item:
            chains.append(_chain(item["chain"]))
            rules.setdefault(item["chain"]["name"], [])
        elif "rule" in item:
            rule = item["rule"]
            rules.setdefault(rule["chain"], []).append(f"{rule['chain']}: {_rule(rule['expr'])}")
        elif "table" not in item and "metainfo" not in item:
            extra.append(f"? {json.dumps(item, sort_keys=True)}")  # a set, map, counter...
    ordered = [rule for found in rules.values() for rule in found]
    return NftTable(family, name, tuple(chains), tuple(ordered + extra))


def _flag_names(flags: int) -> str:
    """`dormant`, `dormant,owner`, ...; a flag nft has no name for, as its number."""
    names = [TABLE_FLAGS.get(bit, hex(bit)) for bit in (1 << n for n in range(32)) if flags & bit]
    return ",".join(names)


def _chain(chain: dict[str, Any]) -> str:
    if "hook" not in chain:
        return str(chain["name"])
    return (f"{chain['name']}: type {chain['type']} hook {chain['hook']} "
            f"priority {chain['prio']}; policy {chain['policy']}")


def _rule(expressions: list[dict[str, Any]]) -> str:
    return " ".join(_statement(e) for e in expressions)


def _statement(expr: dict[str, Any]) -> str:
    """One expression of a rule as nft prints it; anything netplan never writes comes
    out as its JSON, which no rendered rule equals."""
    (kind, value), = expr.items()
    if kind in ("accept", "drop", "return", "masquerade") and value is None:
        return kind
    if kind == "match":
        return _match(value)
    if kind == "dnat" and value.get("family") == "ip" and set(value) <= {"family", "addr", "port"}:
        port = f":{value['port']}" if "port" in value else ""
        return f"dnat ip to {value['addr']}{port}"
    return json.dumps(expr, sort_keys=True)


def _match(match: dict[str, Any]) -> str:
    left, op, right = match["left"], match["op"], match["right"]
    (kind, spec), = left.items()
    if kind == "meta":
        text = spec["key"] if spec["key"] in _BARE else f"meta {spec['key']}"
    elif kind == "payload" and "protocol" in spec:
        text = f"{spec['protocol']} {spec['field']}"
    elif kind == "fib" and spec.get("result") == "type":
        text = f"fib {' . '.join(spec['flags'])} type"
    elif kind == "ct":
        text = f"ct {spec['key']}"
    else:
        return json.dumps({"match": match}, sort_keys=True)
    quote = kind == "meta" and spec["key"] in _QUOTED
    operator = "" if op in ("==", "in") else f"{op} "
    return f"{text} {operator}{_value(right, quote)}"


def _value(value: Any, quote: bool) -> str:
    if isinstance(value, dict) and "set" in value:
        items = sorted(_value(item, quote) for item in value["set"])
        return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"
    if isinstance(value, dict) and "prefix" in value:
        return f"{value['prefix']['addr']}/{value['prefix']['len']}"
    if isinstance(value, list):  # several flags: ct status dnat,snat
        return ",".join(str(v) for v in value)
    return f'"{value}"' if quote else str(value)


def _nft(*args: str, stdin: str | None = None) -> list[dict[str, Any]]:
    """Run nft; its JSON objects for `-j`. NftFailed with nft's own error line."""
    try:
        done = subprocess.run(["nft", *args], input=stdin, capture_output=True, text=True)
    except FileNotFoundError:
        raise NftFailed("nft is not installed (hint: install the nftables package)") from None
    if done.returncode != 0:
        raise NftFailed("nft: " + _error(done.stderr))
    return json.loads(done.stdout)["nftables"] if args[:1] == ("-j",) else []


def _error(stderr: str) -> str:
    """nft's first error, without its position in our script but with the rule it
    quotes: `Error: Could not process rule: Operation not supported: meta ...`."""
    lines = stderr.splitlines()
    for index, line in enumerate(lines):
        if "Error:" in line:
            quoted = lines[index + 1].strip() if index + 1 < len(lines) else ""
            return line[line.index("Error:"):] + (f": {quoted}" if quoted else "")
    return stderr.strip() or "failed"


def _load(text: str) -> None:
    _nft("-f", "-", stdin=text)
