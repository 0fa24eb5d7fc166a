"""GitHub Actions workflow commands (`::error file=…,line=…,col=…,title=…::message`),
escaped as GitHub reads them: an annotation on a line of a file in the pull request."""

from __future__ import annotations

from netplan.topology.positions import Pos


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, file: str, pos: Pos | None, title: str, message: str) -> str:
    """`level`: error, warning or notice. Without a `file` the annotation is on the run."""
    where = [f"file={_property(file)}"] if file else []
    if file and pos is not None:
        where += [f"line={pos.line}", f"col={pos.column}"]
    where.append(f"title={_property(title)}")
    return f"::{level} {','.join(where)}::{_data(message)}"
