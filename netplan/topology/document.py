"""YAML text → plain data plus the position of every value, built from parser events.

Built from events, without recursion, rather than from `yaml.compose` nodes: libyaml
composes recursively (a deep file could overflow the C stack), and the event stream lets
us stop early at the limits below. Duplicate keys are reported (YAML would silently keep
the last one); only plain YAML is accepted: no custom tags, no Python objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from netplan.errors import Problem, TopologyError
from netplan.topology.positions import Place, Positions, Recorded, child
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


@dataclass(slots=True)
class _Frame:
    """An open mapping or list, and where its next value goes."""

    path: str
    record: bool
    entry: Recorded
    anchor: str | None
    value: dict[str, Any] | list[Any]
    nodes: int = 1
    key: object = None
    """Mappings: None while a key is awaited, then the key (str, _MERGE or _SKIP)."""
    key_pos: Place | None = None
    key_path: str = ""
    """The path of the value the key awaits (`<path>.<key>`, `<path>.<<`, `<path>.?`)."""
    merges: list[tuple[Any, str]] = field(default_factory=list)


def parse_document(text: str, file: str) -> Document:
    """Raises TopologyError with one problem when the text cannot be read as a topology."""
    return _Builder(text, file).build()


def _pos(mark: Any) -> Place:
    return mark.line + 1, mark.column + 1


def _show_tag(tag: str) -> str:
    return tag.replace(_CORE, "!!")


class _Builder:
    """One pass over the parser's events. Runs once per value of the file, so the
    per-event work is kept flat: one dispatch by event type, positions as plain tuples."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.positions = Positions(file)
        self.entries = self.positions.entries
        self.problems: list[Problem] = []
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int, str]] = {}
        self.nodes = 0
        self.aliased = False
        self.root: list[Any] = []
        self.documents = 0
        self.loader = _LOADER(text)
        self.tags: dict[str, str] = {}
        """The tag the resolver gives each plain scalar's text, asked once per text."""

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
                self.entries[""][1],
                f"the top level must be a mapping (name:, networks:, ...), got {describe(data)}",
                "write the topology as unindented `key: value` lines, starting with "
                "`name: <topology name>`",
            )
        return Document(data, self.positions, self.problems)

    def _run(self) -> None:
        handlers: dict[type, Callable[[Any], None]] = {
            yaml.ScalarEvent: self._scalar,
            yaml.AliasEvent: self._alias,
            yaml.MappingStartEvent: self._open,
            yaml.SequenceStartEvent: self._open,
            yaml.MappingEndEvent: self._close,
            yaml.SequenceEndEvent: self._close,
            yaml.DocumentStartEvent: self._document_start,
        }
        get_event = self.loader.get_event
        while True:
            event = get_event()
            handler = handlers.get(type(event))
            if handler is not None:
                handler(event)
            elif isinstance(event, yaml.StreamEndEvent):
                return

    # -- events ------------------------------------------------------------------------

    def _document_start(self, event: Any) -> None:
        self.documents += 1
        if self.documents > 1:
            raise self._fail(
                _pos(event.start_mark),
                "a second YAML document ('---'): a topology file holds one",
                "remove the '---' line, or split the file",
            )

    def _scalar(self, event: Any) -> None:
        pos = _pos(event.start_mark)
        self._count(1, pos)
        tag, text, implicit = event.tag, event.value, event.implicit[0]
        if tag is None and implicit:
            tag = self.tags.get(text)
            if tag is None:
                tag = self.tags[text] = self.loader.resolve(yaml.ScalarNode, text, event.implicit)
        elif tag is None or tag == "!":
            tag = _STR_TAG
        if tag == _STR_TAG:
            value: Any = text
        elif tag == _MERGE_TAG and self._awaiting_key():
            self._deliver(_MERGE, pos, True, None, None, 1, event.anchor)
            return
        else:
            value = self._construct(tag, event, pos)
        source = text if implicit and not isinstance(value, str) else None
        scalar = bool(text) or event.style in ("'", '"')
        self._deliver(value, pos, scalar, source, None, 1, event.anchor)

    def _construct(self, tag: str, event: Any, pos: Place) -> Any:
        if tag == _MERGE_TAG:
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
        self._deliver(value, pos, False, None, origin, nodes, None)

    def _open(self, event: Any) -> None:
        pos = _pos(event.start_mark)
        mapping = type(event) is yaml.MappingStartEvent
        if event.tag not in (None, "!", _CORE + ("map" if mapping else "seq")):
            raise self._unknown_tag(event.tag, pos)
        if len(self.stack) >= MAX_DEPTH:
            raise self._fail(
                pos,
                f"the file nests deeper than {MAX_DEPTH} levels",
                "a topology is only a few levels deep; check for stray '[' or '{'",
            )
        self._count(1, pos)
        path, key, record = self._slot()
        entry = (key, pos, False, None)
        if record:
            self.entries[path] = entry
        self.stack.append(_Frame(path, record, entry, event.anchor, {} if mapping else []))

    def _close(self, event: Any) -> None:
        frame = self.stack.pop()
        value = frame.value
        if isinstance(value, dict) and frame.merges:
            value = self._merge(frame.path, value, frame.merges)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (value, frame.nodes, frame.path)
        self._attach(value, frame.nodes, frame.entry)

    # -- placing values ----------------------------------------------------------------

    def _awaiting_key(self) -> bool:
        top = self.stack[-1] if self.stack else None
        return top is not None and isinstance(top.value, dict) and top.key is None

    def _slot(self) -> tuple[str, Place | None, bool]:
        """Where the next value goes: its path, the position of its key, whether to
        record it (not for keys, nor for values whose key was dropped)."""
        if not self.stack:
            return "", None, True
        top = self.stack[-1]
        if isinstance(top.value, list):
            return f"{top.path}[{len(top.value)}]", None, top.record
        if top.key is None:
            return child(top.path, "?"), None, False
        return top.key_path, top.key_pos, top.record and top.key is not _SKIP

    def _deliver(
        self,
        value: Any,
        pos: Place,
        scalar: bool,
        text: str | None,
        origin: str | None,
        nodes: int,
        anchor: str | None,
    ) -> None:
        """A scalar or alias value: record where it is, then attach it to its parent."""
        path, key, record = self._slot()
        entry: Recorded = (key, pos, scalar, text)
        if record:
            self.entries[path] = entry
            if origin is not None:
                self.positions.link(path, origin)
        if anchor is not None:
            self.anchors[anchor] = (value, nodes, origin or path)
        self._attach(value, nodes, entry)

    def _attach(self, value: Any, nodes: int, entry: Recorded) -> None:
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
                top.merges.append((value, top.key_path))
            elif isinstance(top.key, str):
                top.value[top.key] = value
            top.key = None

    def _take_key(self, top: _Frame, key: Any, entry: Recorded) -> None:
        _, pos, _, text = entry
        top.key_pos = pos
        if key is _MERGE:
            top.key = _MERGE
            top.key_path = child(top.path, "<<")
        elif not isinstance(key, str):
            top.key = _SKIP
            top.key_path = child(top.path, "?")
            hint = f'quote it: "{text}"' if text else "write a name as the key"
            path = child(top.path, text) if text else top.path
            self._problem(pos, f"keys must be text, got {describe(key)}", hint, path)
        elif key in top.value:
            top.key = _SKIP
            top.key_path = child(top.path, "?")
            first = self.entries.get(child(top.path, key))
            first_key = first[0] if first else None
            where = f" (first at line {first_key[0]})" if first_key else ""
            self._problem(
                pos,
                f"duplicate key '{key}'{where}",
                "YAML would silently keep the last one; remove or rename one of them",
                child(top.path, key),
            )
        else:
            top.key = key
            top.key_path = child(top.path, key)

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
                        found[0].value if found else (0, 0),
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

    def _count(self, nodes: int, pos: Place) -> None:
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

    def _problem(self, pos: Place, message: str, hint: str, path: str) -> None:
        self.problems.append(
            Problem(message, path, hint, file=self.file, line=pos[0], column=pos[1])
        )

    def _unknown_tag(self, tag: str, pos: Place) -> TopologyError:
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
                pos = len(lines), len(lines[-1]) + 1
        return self._fail(pos, message, hint)

    def _fail(self, pos: Place | None, message: str, hint: str) -> TopologyError:
        line, column = pos or (0, 0)
        return TopologyError([Problem(message, "", hint, self.file, line, column)])
