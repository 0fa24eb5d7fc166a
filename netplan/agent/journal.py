"""What an apply has done so far on this host, and how to undo it.

The controller sends, with the steps, one undo list per step (netplan/plan/inverse.py).
The journal notes each step as it is done and, before each step, asks whether the apply
should stop (the controller cancelled it, or the connection to it closed).

Standard library only: shipped to remote hosts inside the agent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from netplan.agent import sysctl
from netplan.agent.errors import AgentFailure
from netplan.agent.resources import HostsFile, Sysctl
from netplan.agent.state import Step

StopReason = Callable[[], "str | None"]
"""Why the apply must stop now (one line), or None to go on."""


class Interrupted(AgentFailure):
    """The apply stopped between two steps because it was asked to; the steps before
    `step_index` are done."""

    def __init__(self, step_index: int, total: int, reason: str) -> None:
        super().__init__(f"interrupted before step {step_index + 1} of {total}: {reason}")
        self.step_index, self.reason = step_index, reason

    def to_json(self) -> dict[str, object]:
        return {"message": self.message, "interrupted": True, "step": self.step_index}


@dataclass
class Journal:
    undo: list[list[Step]]
    """One undo list per step of the apply."""
    stop: StopReason = lambda: None
    done: list[int] = field(default_factory=list)
    """Indexes of the steps done, in the order they were done."""
    hosts_files: dict[str, bytes] = field(default_factory=dict)
    """What a hosts file held before a step rewrote or removed it, by namespace: the
    observed state has its digest only. The step keeps it here itself, from the open it
    rewrites or removes the file with (execute makes this its Session's
    `replaced_hosts`)."""
    shared_rewrites: dict[str, list[str]] = field(default_factory=dict)
    """Every name a hosts file had when a step rewrote it in place for all of them (the
    namespaces on one network share one file: netplan/agent/hosts_sharing.py), by the
    namespace of that step; kept by the step itself (execute makes this its Session's
    `shared_rewrites`). The names whose own step did not run still have the file, with
    the new text: that step's undo puts back theirs too."""

    @classmethod
    def of(cls, steps: Sequence[Step], undo: list[list[Step]] | None,
           stop: StopReason) -> Journal:  # fmt: skip
        return cls(undo if undo is not None else [[] for _ in steps], stop)

    def before(self, index: int, step: Step, total: int) -> None:
        """Called before step `index`: stop if asked; note a host-wide sysctl's value
        before netplan first sets it, which only the host knows."""
        reason = self.stop()
        if reason is not None:
            raise Interrupted(index, total, reason)
        if isinstance(step.resource, Sysctl) and step.op != "delete":
            try:
                value = sysctl.read(step.resource.name)
            except OSError:
                return
            self.undo[index] = [Step("update", Sysctl(step.resource.name, value), ("value",))]

    def steps_to_undo(self) -> list[list[Step]]:
        """The undo lists of the steps done, last done first, without the deletes the
        kernel does anyway: a link or address whose namespace (or link) is deleted later
        in the undo goes with it, as the planner's implicit deletes do. One by one, a
        namespace's veth costs ~20 ms to delete; with its namespace, nearly nothing."""
        todo = [[self._with_saved_bytes(s) for s in self.undo[index]]
                for index in reversed(self.done)]
        if self.shared_rewrites:
            todo = self._with_linked_names(todo)
        deleted = {s.resource.key for steps in todo for s in steps if s.op == "delete"}
        return [[s for s in steps if not (s.op == "delete" and s.resource.parent() in deleted)]
                for steps in todo]  # fmt: skip

    def _with_linked_names(self, todo: list[list[Step]]) -> list[list[Step]]:
        """`todo` where the undo of each step that rewrote a shared hosts file in place
        also puts back the file of every other name it had whose own step is not undone
        (it never ran): all of them, wanted with one text in the rollback's execute,
        let it rewrite the one file back in place, still shared (HostsSharing)."""
        undone = {s.resource.netns for steps in todo for s in steps
                  if isinstance(s.resource, HostsFile)}  # fmt: skip
        return [[*steps, *(s for undo in steps for s in self._linked_undo(undo, undone))]
                for steps in todo]  # fmt: skip

    def _linked_undo(self, undo: Step, undone: set[str]) -> list[Step]:
        """For the undo of a step that rewrote a shared hosts file in place, the same
        undo for each of the file's other names not in `undone` (then added to it)."""
        resource = undo.resource
        if not isinstance(resource, HostsFile) or undo.op != "update":
            return []
        others = [n for n in self.shared_rewrites.get(resource.netns, ()) if n not in undone]
        undone.update(others)
        return [replace(undo, resource=replace(resource, netns=name)) for name in others]

    def _with_saved_bytes(self, undo: Step) -> Step:
        """A hosts file put back with the bytes saved before the step."""
        netns = _content_unknown(undo)
        saved = self.hosts_files.get(netns) if netns is not None else None
        if netns is None or saved is None:
            return undo
        return replace(undo, resource=HostsFile(netns, saved.decode("utf-8", "replace")))


def _content_unknown(undo: Step) -> str | None:
    """The namespace of a hosts file to create or rewrite whose content the plan does not
    have; None for any other undo step."""
    resource = undo.resource
    if isinstance(resource, HostsFile) and not resource.content and undo.op != "delete":
        return resource.netns
    return None
