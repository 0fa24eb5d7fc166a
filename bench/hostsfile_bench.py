"""What name resolution costs: N containers on one network have N hosts files of N lines
(one file under N names since they share it, netplan/agent/hosts_sharing.py).

Run only inside the throwaway sandbox (it writes /etc/netns and makes namespaces):

    tests/sandbox.sh .venv/bin/python bench/hostsfile_bench.py --sizes 100,500 --rounds 3

Per N, medians of R rounds: rendering every file (controller), the agent writing them all
(create), rewriting them all as one more container on the network changes them (update),
reading them back (observe, as digests), the size of the files in the steps' JSON (what an
SSH host receives when they change) and in an observation's (digests: what it sends back
every time), and a whole in-process no-op check (observe, compile, plan, as `netplan
check` runs them, without interpreter start-up) with and without hosts files, the latter
with netplan.compile.compile_hosts_files patched out in this process only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import netplan.compile
import netplan.etchosts
from netplan import pipeline
from netplan.agent import hostsfile
from netplan.agent.hosts_sharing import HostsSharing
from netplan.agent.resources import HostsFile, to_json
from netplan.compile import assign_addresses
from netplan.etchosts import render
from netplan.plan.changes import HostPlan
from netplan.topology.model import Topology


def topology(size: int) -> Topology:
    return Topology.model_validate({
        "name": "hostsbench",
        "networks": {"bench": {"subnet": "10.100.0.0/16"}},
        "containers": {f"c{i}": {"networks": ["bench"]} for i in range(size)},
    })


def timed(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


class Caller:
    """What the agent's file functions take from a session: the topology's name, no
    journal to keep the files' old bytes for (nothing is undone here), and the files
    one execute call writes (netplan.agent.execute tells its session the same)."""

    topology = "hostsbench"
    replaced_hosts = None

    def __init__(self, files: list[HostsFile]) -> None:
        self.hosts = HostsSharing()
        self.hosts.expect([(f.netns, f.digest) for f in files], [])


def rendered(size: int) -> list[HostsFile]:
    spec = topology(size)
    texts = render(spec, assign_addresses(spec, {}))
    return [HostsFile(name, text) for name, text in texts.items()]


def files_round(size: int) -> dict[str, float]:
    spec = topology(size)
    addresses = assign_addresses(spec, {})
    result = {"render": timed(lambda: render(spec, addresses))}
    files = rendered(size)
    grown = rendered(size + 1)[:size]
    """The same files as an added container changes them."""

    def create() -> None:
        session: Any = Caller(files)
        for found in files:
            hostsfile.create(session, found)

    def update() -> None:
        session: Any = Caller(grown)
        for found in grown:
            hostsfile.update(session, found, ("digest",))

    result["create"] = timed(create)
    result["update"] = timed(update)
    observed: list[HostsFile] = []
    owned = [f.netns for f in files]
    result["observe"] = timed(lambda: observed.extend(
        hostsfile.classify("hostsbench", hostsfile.read("hostsbench"), owned)[0]))
    session: Any = Caller([])
    for found in files:
        hostsfile.remove(session, found.netns)
    result["json_mb"] = sum(len(json.dumps(to_json(f))) for f in files) / 1e6
    result["observed_json_mb"] = sum(len(json.dumps(to_json(f))) for f in observed) / 1e6
    return result


def check_round(size: int) -> dict[str, float]:
    """A no-op check with hosts files, then with compile_hosts_files patched out."""
    spec = topology(size)
    real = netplan.etchosts.compile_hosts_files
    compiler: Any = netplan.compile  # patched where compile_topology calls it
    result: dict[str, float] = {}
    outline = netplan.compile.outline_of(spec)

    def planned(hosts: pipeline.Hosts, destroy: bool = False) -> dict[str, HostPlan]:
        observed = pipeline.observe(outline, hosts)
        desired = {} if destroy else netplan.compile.compile_topology(spec, observed)
        return pipeline.plan(desired, observed)

    with pipeline.connect_hosts(outline, "local") as hosts:
        for label, compiles in (("check with", real), ("check without", lambda context: None)):
            compiler.compile_hosts_files = compiles
            try:
                pipeline.execute(outline, planned(hosts), hosts)

                def check() -> None:
                    assert all(p.empty for p in planned(hosts).values())

                result[label] = timed(check)
            finally:
                compiler.compile_hosts_files = real
        pipeline.execute(outline, planned(hosts, destroy=True), hosts)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import networkx  # noqa: F401  (paid once, outside the timings, as in a real check)

    print("| N | render | agent create | agent update | agent observe | JSON of the steps | "
          "JSON of an observation | check with hosts files | check without |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        rounds = [{**files_round(size), **check_round(size)} for _ in range(args.rounds)]
        median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
        ms = {k: f"{v * 1000:.0f} ms" for k, v in median.items()}
        print(f"| {size} | {ms['render']} | {ms['create']} | {ms['update']} | "
              f"{ms['observe']} | {median['json_mb']:.1f} MB | "
              f"{median['observed_json_mb'] * 1000:.0f} kB | {ms['check with']} | "
              f"{ms['check without']} |")


if __name__ == "__main__":
    main()
