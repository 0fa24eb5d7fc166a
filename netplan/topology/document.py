"""YAML text → plain data plus the position of every value, built from parser events.

Built from events, without recursion, rather than from `yaml.compose` nodes: libyaml
composes recursively (a deep file could overflow the C stack), and the event stream lets
us stop early at the limits below. Duplicate keys are reported (YAML would silently keep
the last one); only plain YAML is accepted: no custom tags, no Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from netplan.errors import Problem, TopologyError
from netplan.topology.positions import Entry, Pos, Positions, child
from netplan.topology.wording import describe

MAX_DEPTH = 64
"""A topology is at most 7 levels deep; more is a mistake or an attack."""
MAX_NODES = 250_000
"""Values after alias expansion; a container takes ~15, so this leaves room for 15,000."""

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_CORE + kind for kind in ("null", "bool", "int", "float", "str", "timestamp")}
_STR_TAG = _CORE + "str"
_MERGE_TAG = _CORE + "merge"
_SYNTAX_HINTS = {
    "\t": "indent with spaces: YAML does not allow tabs there",
    ":": "quote a value that contains ': ', or check the indentation",
}
"""By the character the parser stopped at."""
_SYNTAX_HINT = "check the indentation, and close every quote, '[' and '{' on this line or above"
"""When the character tells nothing."""
_MERGE = object()
"""A pending `<<` key."""
_SKIP = object()
"""A pending key whose value is dropped (duplicate or not text)."""


@dataclass
class Document:
    data: dict[str, Any]
    positions: Positions
    problems: list[Problem]
    """Problems found while reading (duplicate keys, keys that are not text)."""


@dataclass(frozen=True)
class _Slot:
    """Where the next value goes: its path, the position of its key, whether to record it."""

    path: str
    key: Pos | None
    record: bool


@dataclass
class _Frame:
    slot: _Slot
    entry: Entry
    anchor: str | None
    value: dict[str, Any] | list[Any]
    nodes: int = 1
    key: object = None
    """Mappings: None while a key is awaited, then the key (str, _MERGE or _SKIP)."""
    key_pos: Pos | None = None
    merges: list[tuple[Any, str]] = field(default_factory=list)


def parse_document(text: str, file: str) -> Document:
    """Raises TopologyError with one problem when the text cannot be read as a topology."""
    return _Builder(text, file).build()


def _pos(mark: Any) -> Pos:
    return Pos(mark.line + 1, mark.column + 1)


def _show_tag(tag: str) -> str:
    return tag.replace(_CORE, "!!")


class _Builder:
    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.positions = Positions(file)
        self.problems: list[Problem] = []
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int, str]] = {}
        self.nodes = 0
        self.aliased = False
        self.root: list[Any] = []
        self.loader = _LOADER(text)

    def build(self) -> Document:
        try:
            self._run()
        except yaml.MarkedYAMLError as exc:
            raise self._syntax_error(exc) from None
        except yaml.YAMLError as exc:
            raise self._fail(None, f"cannot read the YAML: {exc}", _SYNTAX_HINT) from None
        finally:
            self.loader.dispose()
        if not self.root or self.root[0] is None:
            raise self._fail(
                None,
                "the file holds no topology: it is empty or only comments",
                "start with `name: <topology name>`",
            )
        data = self.root[0]
        if not isinstance(data, dict):
            raise self._fail(
                self.positions.entries[""].value,
                f"the top level must be a mapping (name:, networks:, ...), got {describe(data)}",
                "write the topology as unindented `key: value` lines, starting with "
                "`name: <topology name>`",
            )
        return Document(data, self.positions, self.problems)

    def _run(self) -> None:
        documents = 0
        while True:
            event = self.loader.get_event()
            if isinstance(event, yaml.StreamEndEvent):
                return
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise self._fail(
                        _pos(event.start_mark),
                        "a second YAML document ('---'): a topology file holds one",
                        "remove the '---' line, or split the file",
                    )
            elif isinstance(event, yaml.ScalarEvent):
                self._scalar(event)
            elif isinstance(event, yaml.AliasEvent):
                self._alias(event)
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                self._open(event)
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                self._close()

    # -- events ------------------------------------------------------------------------

    def _scalar(self, event: Any) -> None:
        pos = _pos(event.start_mark)
        self._count(1, pos)
        tag = event.tag
        if tag is None and event.implicit[0]:
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        elif tag is None or tag == "!":
            tag = _STR_TAG
        if tag == _MERGE_TAG and self._awaiting_key():
            self._deliver(_MERGE, Entry(None, pos, True), None, 1, event.anchor)
            return
        value = self._construct(tag, event, pos)
        text = event.value if event.implicit[0] and not isinstance(value, str) else None
        scalar = bool(event.value) or event.style in ("'", '"')
        self._deliver(value, Entry(None, pos, scalar, text), None, 1, event.anchor)

    def _construct(self, tag: str, event: Any, pos: Pos) -> Any:
        if tag in (_STR_TAG, _MERGE_TAG):
            return event.value
        if tag not in _SCALAR_TAGS:
            raise self._unknown_tag(tag, pos)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return SafeConstructor.yaml_constructors[tag](self.loader, node)
        except (ValueError, KeyError, ArithmeticError, yaml.YAMLError):
            raise self._fail(
                pos,
                f"{event.value!r} is not a valid {_show_tag(tag)}",
                f"write a value the tag {_show_tag(tag)} takes, or remove the tag",
            ) from None

    def _alias(self, event: Any) -> None:
        pos = _pos(event.start_mark)
        if any(frame.anchor == event.anchor for frame in self.stack):
            raise self._fail(
                pos,
                f"the alias *{event.anchor} refers to a value that contains it",
                f"use *{event.anchor} only outside the value &{event.anchor} names",
            )
        if event.anchor not in self.anchors:
            raise self._fail(
                pos,
                f"unknown alias *{event.anchor}",
                f"define the anchor &{event.anchor} before using it",
            )
        value, nodes, origin = self.anchors[event.anchor]
        self.aliased = True
        self._count(nodes, pos)
        self._deliver(value, Entry(None, pos, False), origin, nodes, None)

    def _open(self, event: Any) -> None:
        pos = _pos(event.start_mark)
        mapping = isinstance(event, yaml.MappingStartEvent)
        if event.tag not in (None, "!", _CORE + ("map" if mapping else "seq")):
            raise self._unknown_tag(event.tag, pos)
        if len(self.stack) >= MAX_DEPTH:
            raise self._fail(
                pos,
                f"the file nests deeper than {MAX_DEPTH} levels",
                "a topology is only a few levels deep; check for stray '[' or '{'",
            )
        self._count(1, pos)
        slot = self._slot()
        entry = Entry(slot.key, pos, False)
        if slot.record:
            self.positions.add(slot.path, entry)
        self.stack.append(_Frame(slot, entry, event.anchor, {} if mapping else []))

    def _close(self) -> None:
        frame = self.stack.pop()
        value = frame.value
        if isinstance(value, dict) and frame.merges:
            value = self._merge(frame.slot.path, value, frame.merges)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (value, frame.nodes, frame.slot.path)
        self._attach(value, frame.nodes, frame.entry)

    # -- placing values ----------------------------------------------------------------

    def _awaiting_key(self) -> bool:
        top = self.stack[-1] if self.stack else None
        return top is not None and isinstance(top.value, dict) and top.key is None

    def _slot(self) -> _Slot:
        if not self.stack:
            return _Slot("", None, True)
        top = self.stack[-1]
        if isinstance(top.value, list):
            return _Slot(child(top.slot.path, len(top.value)), None, top.slot.record)
        if top.key is None:
            return _Slot(child(top.slot.path, "?"), None, False)
        if top.key is _MERGE:
            return _Slot(child(top.slot.path, "<<"), top.key_pos, top.slot.record)
        if isinstance(top.key, str):
            return _Slot(child(top.slot.path, top.key), top.key_pos, top.slot.record)
        return _Slot(child(top.slot.path, "?"), top.key_pos, False)

    def _deliver(
        self, value: Any, entry: Entry, origin: str | None, nodes: int, anchor: str | None
    ) -> None:
        """A scalar or alias value: record where it is, then attach it to its parent."""
        slot = self._slot()
        entry = entry._replace(key=slot.key)
        if slot.record:
            self.positions.add(slot.path, entry)
            if origin is not None:
                self.positions.link(slot.path, origin)
        if anchor is not None:
            self.anchors[anchor] = (value, nodes, origin or slot.path)
        self._attach(value, nodes, entry)

    def _attach(self, value: Any, nodes: int, entry: Entry) -> None:
        if not self.stack:
            self.root.append(value)
            return
        top = self.stack[-1]
        top.nodes += nodes
        if isinstance(top.value, list):
            top.value.append(value)
        elif top.key is None:
            self._take_key(top, value, entry)
        else:
            if top.key is _MERGE:
                top.merges.append((value, child(top.slot.path, "<<")))
            elif isinstance(top.key, str):
                top.value[top.key] = value
            top.key = None

    def _take_key(self, top: _Frame, key: Any, entry: Entry) -> None:
        top.key_pos = entry.value
        if key is _MERGE:
            top.key = _MERGE
        elif not isinstance(key, str):
            top.key = _SKIP
            hint = f'quote it: "{entry.text}"' if entry.text else "write a name as the key"
            path = child(top.slot.path, entry.text) if entry.text else top.slot.path
            self._problem(entry.value, f"keys must be text, got {describe(key)}", hint, path)
        elif key in top.value:
            top.key = _SKIP
            first = self.positions.entries.get(child(top.slot.path, key))
            where = f" (first at line {first.key.line})" if first and first.key else ""
            self._problem(
                entry.value,
                f"duplicate key '{key}'{where}",
                "YAML would silently keep the last one; remove or rename one of them",
                child(top.slot.path, key),
            )
        else:
            top.key = key

    def _merge(
        self, path: str, explicit: dict[str, Any], merges: list[tuple[Any, str]]
    ) -> dict[str, Any]:
        """YAML merge keys: explicit keys win, then earlier merged mappings over later ones."""
        merged: dict[str, tuple[Any, str]] = {}
        for value, origin in reversed(merges):
            sources = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
            for index, source in reversed(sources):
                at = origin if index is None else child(origin, index)
                if not isinstance(source, dict):
                    found = self.positions.find(at)
                    self._problem(
                        found[0].value if found else Pos(0, 0),
                        f"'<<' merges mappings, got {describe(source)}",
                        "write `<<: *anchor` where &anchor names a mapping",
                        path,
                    )
                    continue
                merged.update({key: (item, child(at, key)) for key, item in source.items()})
        result: dict[str, Any] = {}
        for key, (item, origin) in merged.items():
            if key not in explicit:
                result[key] = item
                self.positions.link(child(path, key), origin)
        result.update(explicit)
        return result

    # -- limits and problems -----------------------------------------------------------

    def _count(self, nodes: int, pos: Pos) -> None:
        self.nodes += nodes
        if self.nodes > MAX_NODES:
            if self.aliased:
                raise self._fail(
                    pos,
                    f"aliases expand the file to more than {MAX_NODES:,} values",
                    "aliases (*name) that multiply values are refused (a 'billion laughs' file?)",
                )
            raise self._fail(
                pos,
                f"the file holds more than {MAX_NODES:,} values",
                "is this the right file?",
            )

    def _problem(self, pos: Pos, message: str, hint: str, path: str) -> None:
        self.problems.append(
            Problem(message, path, hint, file=self.file, line=pos.line, column=pos.column)
        )

    def _unknown_tag(self, tag: str, pos: Pos) -> TopologyError:
        return self._fail(
            pos,
            f"unknown tag '{_show_tag(tag)}': topology files are plain YAML",
            "remove the tag, or quote the value if the '!' is part of it",
        )

    def _syntax_error(self, exc: yaml.MarkedYAMLError) -> TopologyError:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML syntax error: {exc.problem or exc.context}"
        if exc.context and exc.problem and exc.context_mark is not None:
            message += f" ({exc.context} at line {exc.context_mark.line + 1})"
        hint = _SYNTAX_HINT
        pos = None
        if mark is not None:
            lines = self.text.split("\n")
            line = lines[mark.line] if mark.line < len(lines) else ""
            hint = _SYNTAX_HINTS.get(line[mark.column : mark.column + 1], _SYNTAX_HINT)
            pos = _pos(mark)
            if mark.line >= len(lines):  # the parser's end of a file without a last newline
                pos = Pos(len(lines), len(lines[-1]) + 1)
        return self._fail(pos, message, hint)

    def _fail(self, pos: Pos | None, message: str, hint: str) -> TopologyError:
        line, column = (pos.line, pos.column) if pos else (0, 0)
        return TopologyError([Problem(message, "", hint, self.file, line, column)])
