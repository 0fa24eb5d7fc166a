"""Read a topology file as text: bounded in size, UTF-8, and only characters YAML allows."""

from __future__ import annotations

import os

from yaml.reader import Reader

from netplan.errors import Problem, TopologyError

MAX_BYTES = 4 * 1024 * 1024
"""Far above any real topology; refusing early keeps a wrong path (a disk image, a log) cheap."""


def read_source(path: str | os.PathLike[str]) -> str:
    """The text of the file. Raises TopologyError with one problem if it cannot be used."""
    file = os.fspath(path)
    try:
        # A named pipe nothing writes to would block open() for ever: opened without
        # blocking, it reads as empty; one being written (`<(...)`) is read to its end.
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        os.set_blocking(fd, True)
        with open(fd, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            data = b"" if size > MAX_BYTES else handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise _fail(file, "no such file", "check the path") from None
    except IsADirectoryError:
        raise _fail(file, "is a directory, not a topology file",
                    "give the path of a topology file in it") from None
    except PermissionError:
        raise _fail(file, "cannot read the file: permission denied",
                    "make it readable (chmod), or run netplan as a user who can read it") from None
    except OSError as exc:
        raise _fail(file, f"cannot read the file: {exc.strerror or exc}",
                    "check the path") from None
    if size > MAX_BYTES or len(data) > MAX_BYTES:
        raise _fail(
            file,
            f"the file is larger than {MAX_BYTES // 2**20} MiB, the limit for topology files",
            "is this the right file?",
        )
    text = _decode(file, data)
    _check_characters(file, text)
    return text.removeprefix("\ufeff")


def _decode(file: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        raise TopologyError(
            [
                Problem(
                    f"the file is not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded",
                    hint="save the file as UTF-8",
                    file=file,
                    line=line,
                    column=column,
                )
            ]
        ) from None


def _check_characters(file: str, text: str) -> None:
    """Control characters (NUL, ESC, ...) are not YAML; say where, which the parser cannot."""
    bad = Reader.NON_PRINTABLE.search(text)
    if bad is None:
        return
    line_start = text.rfind("\n", 0, bad.start()) + 1
    raise TopologyError(
        [
            Problem(
                f"the control character U+{ord(bad.group()):04X} is not allowed in YAML",
                hint="is this a binary file? remove the character",
                file=file,
                line=text.count("\n", 0, bad.start()) + 1,
                column=bad.start() - line_start + 1,
            )
        ]
    )


def _fail(file: str, message: str, hint: str) -> TopologyError:
    return TopologyError([Problem(message, hint=hint, file=file)])
