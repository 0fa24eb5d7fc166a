"""The compile cache (netplan/compile_cache.py) through TopologyFile, as check uses it: what
hits, what misses (each input of compiling in turn), that a hit returns what compiling
would and logs the same warnings, and that a hit builds no model. As apply uses it: an
entry with the outline only, and an edited file that starts from the outline it had, a
guess that loading settles (netplan/topology_file.py)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import netplan.compile
from netplan import compile_cache
from netplan.agent.resources import Address, HostsFile, Netns
from netplan.agent.state import Facts, HostState
from netplan.compile_cache import Cache, Entry, bytes_digest, comparable, observation_digest
from netplan.errors import NetplanError, TopologyError
from netplan.gate.record import Source
from netplan.outline import HostOutline, Outline
from netplan.topology_file import CacheUse, TopologyFile

TOPOLOGY = """\
name: cached
networks:
  front:
    subnet: 10.0.0.0/24
containers:
  web:
    networks: [front]
  tool:
    network_mode: host
    publish: ["8080:80"]
"""
WARNING = "containers.tool.publish: published ports are discarded in network_mode 'host'"
EMPTY = {"local": HostState()}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("NETPLAN_CACHE_DIR", str(directory))
    monkeypatch.delenv("NETPLAN_CACHE", raising=False)
    return directory


@pytest.fixture
def file(tmp_path: Path) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(TOPOLOGY)
    return path


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the compiler's runs (TopologyFile imports it when it compiles)."""
    runs: list[int] = []
    real = netplan.compile.compile_topology

    def counted(*args: object) -> dict[str, HostState]:
        runs.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(netplan.compile, "compile_topology", counted)
    return runs


def checked(file: Path, observed: dict[str, HostState] = EMPTY) -> dict[str, HostState]:
    """What a check compiles `file` to, through the cache."""
    return TopologyFile(file, CacheUse.COMPARED).desired(observed)


def test_a_second_check_takes_everything_from_the_cache(
    cache: Path, file: Path, compiles: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    first = TopologyFile(file, CacheUse.COMPARED)
    desired = first.desired(EMPTY)
    assert compiles == [1] and len(os.listdir(cache)) == 1
    caplog.clear()

    second = TopologyFile(file, CacheUse.COMPARED)
    assert second._topology is None  # not loaded
    assert (second.outline, second.source, second.warnings) == (
        first.outline, first.source, first.warnings)  # fmt: skip
    assert [WARNING in r.getMessage() for r in caplog.records] == [True]
    again = second.desired(EMPTY)
    assert compiles == [1] and second._topology is None
    assert again == desired  # a hosts file by its digest: its lines are not kept
    assert again["local"].resources["hosts:web"].content == ""


def state_with(**changes: object) -> dict[str, HostState]:
    state = HostState()
    state.add(Netns("web"))
    for key, value in changes.items():
        setattr(state, key, value)
    return {"local": state}


Change = Callable[[Path, Path, pytest.MonkeyPatch], None]


def edit_file(file: Path, _: Path, __: pytest.MonkeyPatch) -> None:
    file.write_text(TOPOLOGY.replace("10.0.0.0/24", "10.0.9.0/24"))


def new_code(_: Path, __: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compile_cache, "code_fingerprint", lambda: "netplan, upgraded")


def corrupt_entry(_: Path, cache: Path, __: pytest.MonkeyPatch) -> None:
    for name in os.listdir(cache):
        (cache / name).write_text("{")


def group_writable(_: Path, cache: Path, __: pytest.MonkeyPatch) -> None:
    cache.chmod(0o770)


def nothing(_: Path, __: Path, ___: pytest.MonkeyPatch) -> None:
    return


@pytest.mark.parametrize(("change", "observed"), [
    (edit_file, EMPTY),
    (new_code, EMPTY),
    (corrupt_entry, EMPTY),
    (group_writable, EMPTY),
    (nothing, state_with()),
    (nothing, state_with(facts=Facts(roster=("local",)))),
    (nothing, state_with(foreign={"netns:x": "is not managed by netplan"})),
    (nothing, {"local": HostState(), "other": HostState()}),
], ids=["file", "code", "corrupt", "group-writable", "resource", "fact", "foreign", "hosts"])
def test_a_changed_input_compiles_again(
    cache: Path, file: Path, compiles: list[int], monkeypatch: pytest.MonkeyPatch,
    change: Change, observed: dict[str, HostState],
) -> None:  # fmt: skip
    checked(file)
    change(file, cache, monkeypatch)
    checked(file, observed)
    assert compiles == [1, 1]


def test_no_cache_when_turned_off(
    cache: Path, file: Path, compiles: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETPLAN_CACHE", "off")
    checked(file)
    checked(file)
    assert compiles == [1, 1] and not cache.exists()


def test_commands_other_than_check_neither_read_nor_write_it(
    cache: Path, file: Path, compiles: list[int]
) -> None:
    TopologyFile(file).desired(EMPTY)
    assert not cache.exists()
    checked(file)
    TopologyFile(file).desired(EMPTY)
    assert compiles == [1, 1, 1]


def test_a_file_changed_while_it_is_read_is_refused(cache: Path, file: Path) -> None:
    checked(file)
    opened = TopologyFile(file, CacheUse.COMPARED)  # the outline from the cache
    file.write_text(TOPOLOGY.replace("10.0.0.0/24", "10.0.9.0/24"))
    with pytest.raises(NetplanError, match="changed while netplan read it"):
        opened.desired(state_with())  # a new observation: it has to load the file


def test_entries_by_file_and_topology(cache: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    files = []
    for name in ("a", "b", "c"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(TOPOLOGY.replace("name: cached", f"name: {name}"))
        files.append(path)
        checked(path)
    assert sorted(n.partition(".")[2] for n in os.listdir(cache)) == ["a.entry", "b.entry",
                                                                     "c.entry"]
    files[0].write_text(TOPOLOGY.replace("name: cached", "name: renamed"))
    checked(files[0])  # the file's entry under its old topology goes
    assert sorted(n.partition(".")[2] for n in os.listdir(cache)) == ["b.entry", "c.entry",
                                                                     "renamed.entry"]
    Cache(cache).forget("b")
    assert sorted(n.partition(".")[2] for n in os.listdir(cache)) == ["c.entry", "renamed.entry"]
    monkeypatch.setattr(compile_cache, "MAX_ENTRIES", 1)
    newest = tmp_path / "d.yaml"
    newest.write_text(TOPOLOGY.replace("name: cached", "name: d"))
    checked(newest)
    assert [n.partition(".")[2] for n in os.listdir(cache)] == ["d.entry"]


def test_what_a_killed_check_left_goes(cache: Path, file: Path, tmp_path: Path) -> None:
    """A check killed while writing its entry leaves `.KEY.TOPOLOGY.entry.PID`: the next
    entry written removes it once that process is gone, and a destroy (forget) always."""
    checked(file)
    [entry] = os.listdir(cache)
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = cache / f".{entry}.{dead.pid}"
    left.write_bytes(b"half")
    running = cache / f".{entry}.{os.getpid()}"
    running.write_bytes(b"being written")
    other = tmp_path / "other.yaml"
    other.write_text(TOPOLOGY.replace("name: cached", "name: other"))
    checked(other)
    assert not left.exists() and running.exists()
    Cache(cache).forget("cached")
    assert [n.partition(".")[2] for n in os.listdir(cache)] == ["other.entry"]
    Cache(cache).forget("other")
    assert not cache.exists()  # the last topology destroyed: no directory left either


class _Command:
    """Unpickled, it would run a command."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (self.command,)


def test_an_entry_is_made_of_netplans_classes_only(
    cache: Path, file: Path, compiles: list[int], tmp_path: Path
) -> None:
    checked(file)
    [entry] = cache.iterdir()
    ran = tmp_path / "ran"
    entry.write_bytes(pickle.dumps(_Command(f"touch {ran}")))
    checked(file)
    assert compiles == [1, 1] and not ran.exists()


def test_the_observation_digest_covers_everything_observed() -> None:
    base = state_with()["local"]
    variants = [
        state_with(facts=Facts(addresses={"web": {"front": "10.0.0.2"}})),
        state_with(foreign={"netns:x": "theirs"}),
        {"local": HostState(resources={**base.resources,
                                       "a": Address("web", "eth0", "10.0.0.2/24")})},
        {"local": HostState(resources={**base.resources,
                                       "netns:web": Netns("web", lo_up=False)})},
        {"local": HostState(resources={**base.resources, "h": HostsFile("web", "a\n")})},
        {"local": HostState(resources={**base.resources, "h": HostsFile("web", "b\n")})},
    ]
    digests = {observation_digest(v) for v in variants}
    assert len(digests) == len(variants) and observation_digest({"local": base}) not in digests
    two = {"b": HostState(), "a": base}
    assert observation_digest(two) == observation_digest(dict(reversed(two.items())))


def test_equal_observations_have_one_digest_however_they_were_made() -> None:
    """The local agent observes in one process beside a loading command, in parts
    unpickled from children otherwise: the same values, other objects shared, and
    resources added in another order (processes before or after the namespaces)."""
    dev = "eth0"
    shared = HostState()
    for netns in ("web", "db"):
        shared.add(Netns(netns))
        shared.add(Address(netns, dev, f"10.0.0.{len(netns)}/24"))  # one `dev` object
    rebuilt = HostState()
    for key in reversed(list(shared.resources)):  # another order, no object shared
        rebuilt.resources[key] = pickle.loads(pickle.dumps(shared.resources[key]))
    assert rebuilt == shared
    assert (observation_digest({"local": rebuilt})
            == observation_digest({"local": shared}))  # fmt: skip


def test_a_hit_builds_no_model(cache: Path, file: Path) -> None:
    """The point of the cache: a check that hits does not import pydantic's model, the
    YAML parser or the compiler."""
    checked(file)
    probe = (
        "import sys; from pathlib import Path; from netplan.agent.state import HostState; "
        "from netplan.topology_file import CacheUse, TopologyFile; "
        f"TopologyFile(Path({str(file)!r}), CacheUse.COMPARED).desired({{'local': HostState()}}); "
        "print([m for m in ('netplan.topology.model', 'netplan.compile', 'yaml', 'pydantic') "
        "if m in sys.modules])"
    )  # fmt: skip
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env={**os.environ, "NETPLAN_CACHE_DIR": str(cache)}, check=True)
    assert json.loads(result.stdout.replace("'", '"')) == []
    assert WARNING in result.stderr  # the warnings, from the entry


def applied(file: Path, observed: dict[str, HostState] = EMPTY, changed: bool = True,
            after: dict[str, HostState] | None = None) -> TopologyFile:
    """`file` as an apply that ran compiles it and leaves it in the cache; `after`, the
    hosts' state it left (pipeline.settled), None when it is not known."""
    opened = TopologyFile(file, CacheUse.OUTLINE)
    opened.applied(changed, opened.desired(observed), after)
    return opened


def latest(cache: Path, file: Path) -> Entry:
    entry = Cache(cache).latest(file)
    assert entry is not None
    return entry


def test_an_apply_keys_what_it_applied_by_the_state_it_left(
    cache: Path, file: Path, compiles: list[int]
) -> None:
    """The check after the apply observes that state: it compiles nothing, loads no
    model, and compares with the desired state the apply compiled."""
    after = {"local": HostState(facts=Facts(roster=("local",)))}
    apply = TopologyFile(file, CacheUse.OUTLINE)
    desired = apply.desired(EMPTY)
    apply.applied(True, desired, after)
    assert compiles == [1]
    entry = latest(cache, file)
    assert entry.observed == observation_digest(after)
    assert Cache(cache).desired(file, entry) == comparable(desired)

    check = TopologyFile(file, CacheUse.COMPARED)
    assert not check.needs_model(compiles=True)
    assert check.desired(after) == comparable(desired)
    assert compiles == [1] and check._topology is None
    assert latest(cache, file) == entry
    check.desired(EMPTY)  # another observation (drift): compiled, and kept instead
    assert compiles == [1, 1] and latest(cache, file).observed == observation_digest(EMPTY)


def test_an_apply_whose_result_is_unknown_leaves_the_outline_only(
    cache: Path, file: Path, compiles: list[int]
) -> None:
    """A host failed, or the change waits for --confirm: a desired state keyed by what
    the hosts had before would be of no use to the check after it, the outline is."""
    opened = applied(file)
    assert compiles == [1]
    entry = latest(cache, file)
    assert entry.observed is None and Cache(cache).desired(file, entry) is None
    assert (entry.outline, entry.bytes_digest) == (opened.outline, bytes_digest(file))
    assert [WARNING in warning for warning in entry.warnings] == [True]


def test_a_check_after_an_apply_observes_with_the_cached_outline_and_compiles(
    cache: Path, file: Path, compiles: list[int]
) -> None:
    outline = applied(file).outline
    check = TopologyFile(file, CacheUse.COMPARED)
    assert (check._topology, check.guessed, check.outline) == (None, False, outline)
    assert check.needs_model(compiles=True)  # the entry holds no desired state
    assert not check.needs_model(compiles=False)
    check.desired(EMPTY)
    assert compiles == [1, 1] and latest(cache, file).observed is not None

    again = TopologyFile(file, CacheUse.COMPARED)  # now everything is in the entry
    assert not again.needs_model(compiles=True)
    again.desired(EMPTY)
    assert compiles == [1, 1] and again._topology is None


def test_an_apply_after_a_check_compiles_and_a_destroy_does_not_load(
    cache: Path, file: Path, compiles: list[int]
) -> None:
    """A check's desired state is for comparing (a hosts file without its lines): an
    apply compiles its own, and writes the entry without it again."""
    checked(file)
    apply = TopologyFile(file, CacheUse.OUTLINE)
    assert apply._topology is None and not apply.guessed
    assert apply.needs_model(compiles=True) and not apply.needs_model(compiles=False)
    desired = apply.desired(EMPTY)
    assert desired["local"].resources["hosts:web"].content != ""  # the whole hosts file
    assert compiles == [1, 1] and latest(cache, file).observed is not None  # not yet
    apply.applied(True, desired, None)
    assert latest(cache, file).observed is None


def test_an_apply_that_changed_nothing_keeps_the_checks_entry(
    cache: Path, file: Path, compiles: list[int]
) -> None:
    checked(file)
    applied(file, changed=False)
    assert latest(cache, file).observed is not None  # the next check still takes it all
    checked(file)
    assert compiles == [1, 1]


def test_an_apply_that_changed_nothing_completes_an_outline_only_entry(
    cache: Path, file: Path
) -> None:
    """After a failed apply (the outline only), one that finds nothing left to do keys
    its desired state by the hosts' state as it observed them."""
    applied(file)
    assert latest(cache, file).observed is None
    applied(file, changed=False, after=EMPTY)
    assert latest(cache, file).observed == observation_digest(EMPTY)


def test_an_apply_refused_before_it_ran_leaves_no_entry(cache: Path, file: Path) -> None:
    """A conflict or a declined confirmation stops an apply after it compiled, before
    applied(): nothing of it is left, the cache included."""
    TopologyFile(file, CacheUse.OUTLINE).desired(EMPTY)
    assert not cache.exists() or not os.listdir(cache)


@pytest.mark.parametrize("use", [CacheUse.OUTLINE, CacheUse.COMPARED])
def test_an_edited_file_starts_from_the_outline_it_had(
    cache: Path, file: Path, caplog: pytest.LogCaptureFixture, use: CacheUse
) -> None:
    before = applied(file).outline
    file.write_text(TOPOLOGY.replace("10.0.0.0/24", "10.0.9.0/24"))
    caplog.clear()
    opened = TopologyFile(file, use)
    assert (opened.guessed, opened.outline, opened._topology) == (True, before, None)
    assert opened.needs_model(compiles=False) and opened.needs_model(compiles=True)
    assert caplog.records == []  # the warnings come with the model

    opened.load()
    assert not opened.guessed and opened._topology is not None
    assert opened.outline == before  # a new subnet: the hosts observed are the same
    assert opened.source == Source.of(file)
    assert [WARNING in r.getMessage() for r in caplog.records] == [True]
    assert not opened.needs_model(compiles=True)


TWO_HOSTS = """\
name: cached
hosts:
  local: {}
  far: {}
networks:
  front:
    subnet: 10.0.0.0/24
    host: local
containers:
  web:
    networks: [front]
    host: local
  tool:
    network_mode: host
    host: far
"""
MACVLAN = """\
  lan:
    driver: macvlan
    parent: eth7.5
    subnet: 192.168.7.0/24
"""
VOLUME = """\
  job:
    command: [sleep, "60"]
    volumes: ["/srv/data:/mnt/data:ro"]
"""


@pytest.mark.parametrize(("edited", "settled"), [
    (TOPOLOGY + "hosts:\n  local:\n    underlay: eth9\n",
     Outline("cached", {"local": HostOutline(underlay="eth9")})),
    (TWO_HOSTS, Outline("cached", {"local": HostOutline(), "far": HostOutline()})),
    (TOPOLOGY.replace("networks:\n", "networks:\n" + MACVLAN, 1),
     Outline("cached", {"local": HostOutline(interfaces=("eth7.5", "eth7"))})),
    (TOPOLOGY + VOLUME, Outline("cached", {"local": HostOutline(paths=("/mnt/data",
                                                                       "/srv/data"))})),
    (TOPOLOGY.replace("name: cached", "name: renamed"),
     Outline("renamed", {"local": HostOutline()})),
], ids=["underlay", "host", "macvlan-parent", "volume", "renamed"])  # fmt: skip
def test_a_guess_the_edit_proved_wrong_is_settled_by_loading(
    cache: Path, file: Path, edited: str, settled: Outline
) -> None:
    guess = applied(file).outline
    assert guess == Outline("cached", {"local": HostOutline()})
    file.write_text(edited)
    opened = TopologyFile(file, CacheUse.COMPARED)
    assert (opened.guessed, opened.outline) == (True, guess)
    opened.load()
    assert (opened.guessed, opened.outline) == (False, settled)


def test_a_guessed_file_that_is_invalid_is_refused_when_it_loads(
    cache: Path, file: Path
) -> None:
    applied(file)
    written = latest(cache, file)
    file.write_text(TOPOLOGY + "bogus: 1\n")
    opened = TopologyFile(file, CacheUse.OUTLINE)  # the guess needs no loading
    assert opened.guessed
    with pytest.raises(TopologyError, match=r"t\.yaml:\d+:1: bogus: unknown field 'bogus'"):
        opened.load()
    with pytest.raises(TopologyError, match="unknown field 'bogus'"):
        opened.desired(EMPTY)
    assert latest(cache, file) == written  # nothing cached of it


def test_desired_of_a_guessed_file_settles_it_first(
    cache: Path, file: Path, compiles: list[int]
) -> None:
    applied(file)
    file.write_text(TOPOLOGY + "hosts:\n  local:\n    underlay: eth9\n")
    opened = TopologyFile(file, CacheUse.OUTLINE)
    assert opened.guessed
    desired = opened.desired(EMPTY)
    assert not opened.guessed and compiles == [1, 1]
    assert opened.outline == Outline("cached", {"local": HostOutline(underlay="eth9")})
    opened.applied(True, desired, None)
    entry = latest(cache, file)  # the entry is the new bytes', with their outline
    assert (entry.bytes_digest, entry.outline) == (bytes_digest(file), opened.outline)
    assert desired == TopologyFile(file).desired(EMPTY)  # as without the cache


def test_a_guessed_file_changed_while_it_loads_is_refused(cache: Path, file: Path) -> None:
    applied(file)
    file.write_text(TOPOLOGY.replace("10.0.0.0/24", "10.0.9.0/24"))
    opened = TopologyFile(file, CacheUse.COMPARED)  # guessed, for these bytes
    file.write_text(TOPOLOGY.replace("10.0.0.0/24", "10.0.8.0/24"))
    with pytest.raises(NetplanError, match="changed while netplan read it"):
        opened.load()


@pytest.mark.parametrize(("change", "use", "guessed"), [
    (new_code, CacheUse.COMPARED, True),  # an outline is a guess whoever wrote it
    (nothing, CacheUse.NONE, False),
    (corrupt_entry, CacheUse.COMPARED, False),
    (group_writable, CacheUse.COMPARED, False),
], ids=["code", "no-cache", "corrupt", "group-writable"])  # fmt: skip
def test_what_an_edited_file_is_guessed_from(
    cache: Path, file: Path, monkeypatch: pytest.MonkeyPatch, change: Change, use: CacheUse,
    guessed: bool,
) -> None:  # fmt: skip
    """Only the entry of the same file, from a directory only this user can write to;
    without one, the file is loaded when it is opened."""
    applied(file)
    change(file, cache, monkeypatch)
    file.write_text(TOPOLOGY.replace("10.0.0.0/24", "10.0.9.0/24"))
    opened = TopologyFile(file, use)
    assert opened.guessed is guessed
    assert (opened._topology is None) is guessed


def test_another_file_is_not_guessed_from_this_ones_entry(cache: Path, file: Path) -> None:
    applied(file)
    other = file.with_name("other.yaml")
    other.write_text(TOPOLOGY.replace("10.0.0.0/24", "10.0.9.0/24"))
    opened = TopologyFile(other, CacheUse.COMPARED)
    assert not opened.guessed and opened._topology is not None


def test_the_outline_is_read_without_the_desired_state(
    cache: Path, file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry and its desired state are two pickles in one file: a guess, or a check
    whose observation differs, reads the first only (at N=1000 the second is most of the
    file)."""
    checked(file)
    loads: list[object] = []
    real = compile_cache._Unpickler.load

    def counted(self: compile_cache._Unpickler) -> object:
        loads.append(found := real(self))
        return found

    monkeypatch.setattr(compile_cache._Unpickler, "load", counted)
    entry = Cache(cache).latest(file)
    assert entry is not None and entry.observed is not None and len(loads) == 1
    desired = Cache(cache).desired(file, entry)
    assert desired is not None and len(loads) == 3 and desired == checked(file)
    file.write_text(TOPOLOGY.replace("10.0.0.0/24", "10.0.9.0/24"))
    checked(file)  # another entry for the same file: the one read before is no longer it
    assert Cache(cache).desired(file, entry) is None


def test_a_plan_reads_the_outline_and_writes_nothing(cache: Path, file: Path) -> None:
    """plan opens the file as apply does (CacheUse.OUTLINE) but changes no host: only an
    apply that ran leaves an entry."""
    checked(file)
    before = sorted((p.name, p.read_bytes()) for p in cache.iterdir())
    planned = TopologyFile(file, CacheUse.OUTLINE)
    assert planned._topology is None and not planned.guessed  # the outline, not loaded
    planned.desired(EMPTY)
    assert sorted((p.name, p.read_bytes()) for p in cache.iterdir()) == before


def test_comparable_drops_what_is_not_compared_and_keeps_the_rest() -> None:
    state = HostState()
    netns, hosts = Netns("web"), HostsFile("web", "10.0.0.2 web\n")
    for resource in (netns, hosts, Address("web", "eth0", "10.0.0.2/24")):
        state.add(resource)
    kept = comparable({"local": state})["local"]
    assert list(kept.resources) == list(state.resources)
    assert kept.resources[netns.key] is netns
    assert kept.resources[hosts.key] == hosts and kept.resources[hosts.key].content == ""
    assert state.resources[hosts.key].content == "10.0.0.2 web\n"
