"""Errors by who must act. Each renders as one line per problem; the CLI exits 1 on any."""

from __future__ import annotations

from dataclasses import dataclass


class NetplanError(Exception):
    """Base of every error the CLI reports without a traceback."""

    def lines(self) -> list[str]:
        return [str(self)]

    def as_problems(self) -> list[Problem]:
        """The lines as problems, with the file, line, column, field path and hint where
        the error knows them: for errors reported as JSON, JUnit or GitHub annotations."""
        return [Problem.of_line(line) for line in self.lines()]


HINT = " (hint: "
"""How a hint starts in a rendered problem, after its message."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a topology file, with where it is and how to fix it."""

    message: str
    path: str = ""
    """Dotted field path, e.g. `networks.front.subnet`."""
    hint: str = ""
    file: str = ""
    line: int = 0
    column: int = 0

    @classmethod
    def of_line(cls, line: str) -> Problem:
        """A one-line error as a problem: its trailing ` (hint: ...)`, the way render()
        writes a hint and every error message of netplan ends with one, as the hint."""
        at = line.rfind(HINT)
        if at < 0 or not line.endswith(")"):
            return cls(line)
        return cls(line[:at], hint=line[at + len(HINT):-1])

    def render(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.column}"
        head = f"{where}: " if where else ""
        field_path = f"{self.path}: " if self.path else ""
        hint = f"{HINT}{self.hint})" if self.hint else ""
        return one_line(f"{head}{field_path}{self.message}{hint}")


class FieldError(ValueError):
    """A value a field of the topology cannot take, raised by the model's validators:
    the message says what is wrong, the hint what to write instead. pydantic keeps the
    exception in its error, and validation makes a Problem of both."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def one_line(text: str) -> str:
    """`text` with every character a terminal would not print as itself (newline, ESC,
    a bidirectional override) written as its Python escape: a key such as "a\\nb" in a
    hostile file cannot split a problem into two lines or paint the terminal."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


class ProblemsError(NetplanError):
    """A file the user fixes is wrong. Carries every problem found, each with its place."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.render() for p in problems))
        self.problems = problems

    def lines(self) -> list[str]:
        return [p.render() for p in self.problems]

    def as_problems(self) -> list[Problem]:
        return list(self.problems)


class TopologyError(ProblemsError):
    """The topology file is wrong; the user fixes the file."""


class ConflictError(NetplanError):
    """Objects in the way that netplan does not own; nothing was changed."""

    def __init__(self, host: str, refusals: list[str]) -> None:
        self.host = host
        self.refusals = refusals
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        return [f"host {self.host}: {refusal}" for refusal in self.refusals]


class AgentError(NetplanError):
    """The kernel (or the host) refused an operation; names the host and the resource."""

    def __init__(self, host: str, resource: str, message: str, hint: str = "") -> None:
        self.host, self.resource, self.message, self.hint = host, resource, message, hint
        super().__init__(self.lines()[0])

    def lines(self) -> list[str]:
        return [problem.render() for problem in self.as_problems()]

    def as_problems(self) -> list[Problem]:
        return [Problem(f"host {self.host}: {self.resource}: {self.message}", hint=self.hint)]


class VerifyError(NetplanError):
    """After applying, the host still differs from the topology."""

    def __init__(self, host: str, differences: list[str]) -> None:
        self.host, self.differences = host, differences
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        return [f"host {self.host}: still differs after apply: {d}" for d in self.differences]


def log_warnings(warnings: list[str]) -> None:
    """A topology's warnings (rendered problems), to stderr also without logging set up."""
    if not warnings:
        return
    import logging  # 1 ms, for a file with warnings only

    for warning in warnings:
        logging.getLogger("netplan").warning("warning: %s", warning)
