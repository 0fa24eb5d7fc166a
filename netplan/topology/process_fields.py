"""The fields of a container that runs a process (`command`, `env`, `workdir`, `hostname`,
`volumes`, `restart`) as pydantic types, each with the rule Docker applies to it.

Kept apart from model.py so the schema module stays about topology structure; model.py
only lists the fields.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Discriminator, Tag, WithJsonSchema

from netplan.errors import FieldError

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"{LABEL}(\.{LABEL})*")
HOST_NAME_MAX = 64
"""Longest hostname sethostname(2) takes, in bytes."""
VOLUME_PATTERN = r"^/[^:]*:/[^:]*(:(ro|rw))?$"
VOLUME_FORM = "host_path:container_path[:ro|rw]"
SHELL = "/bin/sh"


@dataclass(frozen=True)
class Volume:
    """`host_path:container_path[:ro|rw]`: a bind mount in the container's mount namespace."""

    source: str
    target: str
    read_only: bool = False

    @classmethod
    def parse(cls, text: str) -> Volume:
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise FieldError(
                f"volume {text!r} is not {VOLUME_FORM}", f"write {VOLUME_FORM}, e.g. /srv:/data:ro"
            )
        source, target, *mode = parts
        suffix = f":{mode[0]}" if mode else ""
        if mode and mode[0] not in ("ro", "rw"):
            raise FieldError(
                f"volume {text!r}: mode {mode[0]!r} must be 'ro' or 'rw'",
                f"write {source}:{target}:ro, or {source}:{target} to mount it read-write",
            )
        if not source.startswith("/"):
            raise FieldError(
                f"volume {text!r}: host path {source!r} must be absolute "
                "(netplan has no named volumes)",
                f"bind a host directory by its absolute path, e.g. /srv/{source}:{target}{suffix}",
            )
        if not target.startswith("/"):
            raise FieldError(
                f"volume {text!r}: container path {target!r} must be absolute",
                f"did you mean '{source}:/{target}{suffix}'?",
            )
        if posixpath.normpath(target) == "/":
            raise FieldError(
                f"volume {text!r}: the container path cannot be '/'",
                f"mount it on a directory, e.g. {source}:/data",
            )
        return cls(posixpath.normpath(source), posixpath.normpath(target), mode == ["ro"])

    def __str__(self) -> str:
        return f"{self.source}:{self.target}:{'ro' if self.read_only else 'rw'}"


def _volume(value: str) -> str:
    Volume.parse(value)
    return value


def _command(value: str | list[str]) -> str | list[str]:
    if isinstance(value, str):
        if not value.strip():
            raise FieldError("command must not be empty", _COMMAND_HINT)
    elif not value or not value[0]:
        raise FieldError("command must name a program", _COMMAND_HINT)
    return value


_COMMAND_HINT = (
    "give a list starting with the program, e.g. [sleep, \"3600\"], or a string, e.g. "
    "sleep 3600; or leave `command:` out"
)


def argv(command: str | list[str]) -> tuple[str, ...]:
    """The list form runs as it is; a string runs through `/bin/sh -c`, as Docker's
    shell form does."""
    if isinstance(command, str):
        return (SHELL, "-c", command)
    return tuple(command)


def _env(value: Any) -> Any:
    """Numbers are written as text (`PORT: 8000`); booleans and nulls are left to be
    refused, each at its own key, as Compose refuses them (YAML reads `yes` as true)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return value
    return {key: str(item) if isinstance(item, int | float) and not isinstance(item, bool)
            else item for key, item in value.items()}  # fmt: skip


def _env_name(key: str) -> str:
    if not ENV_NAME.fullmatch(key):
        raise FieldError(
            f"environment variable name {key!r} must be letters, digits and '_', "
            "not starting with a digit",
            f"rename it, e.g. '{_env_name_like(key)}'",
        )
    return key


def _env_name_like(key: str) -> str:
    """`key` as a name the rule allows: other characters become '_', and a leading
    digit gets one before it."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", key)
    return name if ENV_NAME.fullmatch(name) else "_" + name


def _absolute(value: str) -> str:
    if not value.startswith("/"):
        raise FieldError(
            f"workdir {value!r} must be an absolute path",
            f"did you mean '{posixpath.join('/', value)}'?",
        )
    return value


def _hostname(value: str) -> str:
    if len(value.encode()) > HOST_NAME_MAX or not HOSTNAME.fullmatch(value):
        raise FieldError(
            f"hostname {value!r} must be letters, digits, '-' and '.' (at most "
            f"{HOST_NAME_MAX} bytes, no label starting or ending with '-')",
            "write labels joined by '.', e.g. web.example, or leave `hostname:` out",
        )
    return value


def _restart(value: Any) -> Any:
    """YAML reads a bare `no` as false."""
    return "no" if value is False else value


def _command_form(value: Any) -> str:
    return "list" if isinstance(value, list) else "text"


Command = Annotated[
    Annotated[str, Tag("text")] | Annotated[list[str], Tag("list")],
    Discriminator(_command_form),
    AfterValidator(_command),
]
"""A command line as one text or as a list: a problem is told for the form written."""
Env = Annotated[dict[Annotated[str, AfterValidator(_env_name)], str], BeforeValidator(_env)]
Workdir = Annotated[str, AfterValidator(_absolute)]
Hostname = Annotated[
    str,
    AfterValidator(_hostname),
    WithJsonSchema({"type": "string", "maxLength": HOST_NAME_MAX}),
]
VolumeText = Annotated[
    str, AfterValidator(_volume), WithJsonSchema({"type": "string", "pattern": VOLUME_PATTERN})
]
Restart = Annotated[Literal["always", "no"], BeforeValidator(_restart)]
