"""The inverse of a host's plan: for each step, the steps that undo it.

Pure, like the planner: the observed state the plan was made from says what each step
changes. A create is undone by deleting what it made; an update by setting the same
fields back to their observed values; a delete by creating the observed resource again,
together with every observed resource the kernel removed with it (a namespace takes its
links, addresses, routes, hosts file and processes: the planner's implicit deletes); but
a stray link's delete is undone by nothing (what it was attached to cannot be reached:
netplan/agent/stray.py). A hosts file put back is never one the agent may share with
other namespaces (HostsFile.shared) where a container's process runs: the step's own
file says so for an update, the namespace's observed process for a delete (an observed
hosts file is read back as shareable: the kernel does not say).

The agent runs the undo lists of the steps it has done, last step first, when an apply
fails or is interrupted (netplan/agent/transaction.py), or when `apply --confirm` is not
confirmed in time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from netplan.agent.resources import HostsFile, Process, Resource, StrayLink
from netplan.agent.state import HostState, Step
from netplan.plan.changes import HostPlan


def undo_steps(plan: HostPlan) -> list[list[Step]]:
    """One undo list per step of `plan`, in the same order as its steps. Which observed
    resources each one holds is worked out only for a plan that deletes (at N=1,000,
    half the time of an add's undo lists, which deletes nothing)."""
    observed = plan.observed
    deletes = any(step.op == "delete" for step in plan.steps)
    children = _children(observed) if deletes else {}
    return [_undo(step, observed, children) for step in plan.steps]


def _undo(step: Step, observed: HostState, children: dict[str, list[str]]) -> list[Step]:
    resource = step.resource
    if step.op == "create":
        return [Step("delete", resource)]
    before = observed.resources.get(resource.key)
    if before is None:
        # The planner only updates and deletes what it observed.
        raise ValueError(f"{resource.describe()}: {step.op} of a resource not observed")
    if step.op == "update":
        if isinstance(before, HostsFile) and isinstance(resource, HostsFile):
            before = replace(before, shared=before.shared and resource.shared)
        return [Step("update", before, step.fields)]
    if isinstance(before, StrayLink):
        return []
    return [Step("create", r) for r in _unshared(_with_descendants(before, observed, children))]


def _unshared(resources: list[Resource]) -> list[Resource]:
    """`resources`, with the hosts file of a namespace a process among them runs in not
    to be shared."""
    running = {r.netns for r in resources if isinstance(r, Process)}
    if not running:
        return resources
    return [replace(r, shared=False) if isinstance(r, HostsFile) and r.netns in running else r
            for r in resources]  # fmt: skip


def _children(observed: HostState) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for resource in observed.resources.values():
        parent = resource.parent()
        if parent is not None and parent in observed.resources:
            found[parent].append(resource.key)
    return found


def _with_descendants(
    root: Resource, observed: HostState, children: dict[str, list[str]]
) -> list[Resource]:
    """`root` and everything observed beneath it, in an order that creates each after what
    it requires (a link before its addresses, addresses before routes, processes last)."""
    found = [root]
    stack = list(children.get(root.key, ()))
    while stack:
        key = stack.pop()
        found.append(observed.resources[key])
        stack.extend(children.get(key, ()))
    return [root, *sorted(found[1:], key=lambda r: (r.ORDER, r.key))]
