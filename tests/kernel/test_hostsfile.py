"""Hosts files on a real /etc/netns (the sandbox's private tmpfs): written where
`ip netns exec` finds them, resolved by getent, rewritten in place so that a process
already inside the namespace sees the change, owned by marker, removed with the
namespace and nothing else removed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from netplan.agent import hostsfile, transaction
from netplan.agent.api import execute, handle, observe
from netplan.agent.errors import StepFailed
from netplan.agent.hostsfile import ETC_NETNS, hosts_marker
from netplan.agent.resources import HostsFile, Netns, text_of
from netplan.agent.session import Session
from netplan.agent.state import PROTOCOL_VERSION, Step
from tests.kernel.kernel_helpers import create, delete, keyed, owned, plan, update

LINES = ("127.0.0.1 localhost", "10.9.0.3 db database")
TEXT = text_of(LINES)


def hosts_path(netns: str) -> Path:
    return Path(ETC_NETNS) / netns / "hosts"


def getent(netns: str, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", netns, "getent", "hosts", name],
                          capture_output=True, text=True)


def test_create_is_resolved_inside_and_observed_back(topology: str) -> None:
    wanted = [Netns("h1"), HostsFile("h1", TEXT)]
    create(topology, *wanted)

    text = hosts_path("h1").read_text()
    assert text.splitlines() == [hosts_marker(topology), *LINES]
    assert oct(hosts_path("h1").stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in Path(ETC_NETNS).iterdir() if p.name.startswith(".")] == []
    found = getent("h1", "database")
    assert found.returncode == 0 and found.stdout.split() == ["10.9.0.3", "db", "database"]
    assert getent("h1", "nobody").returncode == 2
    assert owned(topology) == keyed(*wanted)


def test_update_keeps_the_inode_a_process_inside_has_mounted(topology: str) -> None:
    """`ip netns exec` bind-mounts the file: a shell started before the update reads
    the new content through its mount."""
    create(topology, Netns("h2"), HostsFile("h2", TEXT))
    inode = hosts_path("h2").stat().st_ino
    shell = subprocess.Popen(["ip", "netns", "exec", "h2", "sh", "-c", "read go; cat /etc/hosts"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert shell.stdin is not None
        newer = HostsFile("h2", text_of(("127.0.0.1 localhost", "10.9.0.4 cache")))
        update(topology, newer, "digest")
        out, _ = shell.communicate("go\n", timeout=10)
    finally:
        if shell.poll() is None:
            shell.kill()
    assert hosts_path("h2").stat().st_ino == inode
    assert out == f"{hosts_marker(topology)}\n{newer.content}"
    assert owned(topology) == keyed(Netns("h2"), newer)


NEWER = text_of(("127.0.0.1 localhost", "10.9.0.3 db database", "10.9.0.4 cache"))


def inodes(*netns: str) -> list[tuple[int, int]]:
    """(inode, link count) of each namespace's hosts file, as stat(2) gives them."""
    return [(stat.st_ino, stat.st_nlink) for stat in (hosts_path(n).stat() for n in netns)]


def test_namespaces_with_one_text_share_one_file_rewritten_once(topology: str) -> None:
    """Made in one call, three files of one text are one file with three names; one
    rewrite reaches all three, a shell already inside one of them included."""
    create(topology, *(r for n in ("s1", "s2", "s3") for r in (Netns(n), HostsFile(n, TEXT))))
    (inode, links), *others = inodes("s1", "s2", "s3")
    assert links == 3 and others == [(inode, 3), (inode, 3)]
    assert getent("s3", "database").stdout.split() == ["10.9.0.3", "db", "database"]
    shell = subprocess.Popen(["ip", "netns", "exec", "s2", "sh", "-c", "read go; cat /etc/hosts"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        execute(topology, [Step("update", HostsFile(n, NEWER), ("digest",))
                           for n in ("s1", "s2", "s3")])
        out, _ = shell.communicate("go\n", timeout=10)
    finally:
        if shell.poll() is None:
            shell.kill()
    assert inodes("s1", "s2", "s3") == [(inode, 3)] * 3
    assert out == f"{hosts_marker(topology)}\n{NEWER}"
    assert getent("s1", "cache").stdout.split() == ["10.9.0.4", "cache"]
    assert owned(topology) == keyed(*(r for n in ("s1", "s2", "s3")
                                      for r in (Netns(n), HostsFile(n, NEWER))))


def test_a_namespace_whose_text_changes_alone_gets_a_file_of_its_own(topology: str) -> None:
    """Rewriting the shared file would change the others' too: the one that changes is
    given its own file; the others keep theirs, still shared."""
    create(topology, *(r for n in ("d1", "d2", "d3") for r in (Netns(n), HostsFile(n, TEXT))))
    (inode, _), *_ = inodes("d1")
    update(topology, HostsFile("d2", NEWER), "digest")
    assert inodes("d1", "d3") == [(inode, 2)] * 2
    assert inodes("d2")[0][0] != inode
    assert getent("d2", "cache").returncode == 0 and getent("d1", "cache").returncode == 2
    assert owned(topology) == keyed(Netns("d1"), HostsFile("d1", TEXT), Netns("d2"),
                                    HostsFile("d2", NEWER), Netns("d3"), HostsFile("d3", TEXT))


def test_a_namespace_deleted_in_the_same_call_does_not_keep_the_others_apart(
    topology: str,
) -> None:
    """The others' rewrite comes first, while the file still has the deleted namespace's
    name: that name is going, so the file is rewritten in place; and a namespace made in
    the same call, of the same text, is linked to it."""
    create(topology, *(r for n in ("r1", "r2", "r3") for r in (Netns(n), HostsFile(n, TEXT))))
    (inode, _), *_ = inodes("r1")
    execute(topology, [Step("update", HostsFile("r1", NEWER), ("digest",)),
                       Step("update", HostsFile("r2", NEWER), ("digest",)),
                       Step("delete", Netns("r3")),
                       Step("create", Netns("r4")), Step("create", HostsFile("r4", NEWER))])
    assert inodes("r1", "r2", "r4") == [(inode, 3)] * 3
    assert not hosts_path("r3").parent.exists()
    assert owned(topology) == keyed(*(r for n in ("r1", "r2", "r4")
                                      for r in (Netns(n), HostsFile(n, NEWER))))


OTHER = text_of(("127.0.0.1 localhost", "10.9.0.7 queue"))


def test_one_namespace_leaving_while_the_others_change_keeps_them_on_one_file(
    topology: str,
) -> None:
    """Three names of one file: two go to NEWER, one to OTHER (it left their network).
    Whichever comes first, the file is rewritten once in place and the one whose text
    differs gets its own file, not every one of them; each keeps the old bytes for the
    undo."""
    for order, names in (("leaver last", ("o1", "o2", "o3")), ("leaver first", ("o6", "o4", "o5"))):
        a, b, leaver = sorted(names)
        create(topology, *(r for n in names for r in (Netns(n), HostsFile(n, TEXT))))
        (original, _), *_ = inodes(a)
        wanted = {a: NEWER, b: NEWER, leaver: OTHER}
        with Session(topology, replaced_hosts={}) as session:
            files = [HostsFile(n, wanted[n]) for n in names]
            session.hosts.expect([(f.netns, f.digest) for f in files], [])
            for hosts in files:
                hostsfile.update(session, hosts, ("digest",))
        assert session.replaced_hosts == {n: TEXT.encode() for n in names}, order
        assert inodes(a) == inodes(b) and inodes(a)[0][1] == 2, order
        assert inodes(leaver)[0][1] == 1, order
        rewritten_in_place = leaver if order == "leaver first" else a  # the first to ask
        assert inodes(rewritten_in_place)[0][0] == original, order
        assert owned(topology) == keyed(*(r for n in names
                                          for r in (Netns(n), HostsFile(n, wanted[n])))), order
        delete(topology, *(Netns(n) for n in names))


def test_the_undo_of_a_shared_file_keeps_what_it_held_for_each_name(topology: str) -> None:
    """The second name's rewrite finds the file already rewritten, and a name removed
    after it finds it rewritten too: both keep for the undo what the first rewrite read."""
    create(topology, *(r for n in ("u1", "u2", "u3") for r in (Netns(n), HostsFile(n, TEXT))))
    newer = [HostsFile(n, NEWER) for n in ("u1", "u2")]
    with Session(topology, replaced_hosts={}) as session:
        session.hosts.expect([(h.netns, h.digest) for h in newer], ["u3"])
        for hosts in newer:
            hostsfile.update(session, hosts, ("digest",))
        hostsfile.remove(session, "u3")
    assert session.replaced_hosts == {n: TEXT.encode() for n in ("u1", "u2", "u3")}
    assert inodes("u1", "u2") == [inodes("u1")[0]] * 2
    assert not hosts_path("u3").exists()


def test_a_hand_edit_is_observed_and_an_update_repairs_it(topology: str) -> None:
    wanted = HostsFile("h3", TEXT)
    create(topology, Netns("h3"), wanted)
    with hosts_path("h3").open("a") as file:
        file.write("6.6.6.6 db\n")
    assert owned(topology)[wanted.key] == HostsFile("h3", text_of((*LINES, "6.6.6.6 db")))

    hosts_path("h3").write_text("10.9.0.9 db\n")  # the marker line is gone too
    assert owned(topology)[wanted.key] == HostsFile("h3", "10.9.0.9 db\n")
    update(topology, wanted, "digest")
    assert owned(topology)[wanted.key] == wanted


def test_deleting_the_namespace_removes_only_our_file(topology: str) -> None:
    create(topology, Netns("h4"), HostsFile("h4", TEXT), Netns("h5"), HostsFile("h5", TEXT))
    theirs = hosts_path("h5").parent / "resolv.conf"
    theirs.write_text("nameserver 192.0.2.53\n")

    delete(topology, Netns("h4"), Netns("h5"))
    assert not hosts_path("h4").parent.exists()
    assert sorted(os.listdir(hosts_path("h5").parent)) == ["resolv.conf"]
    theirs.unlink()
    hosts_path("h5").parent.rmdir()
    assert owned(topology) == {}


def test_files_of_others_are_foreign_and_ours_without_a_namespace_are_observed(
    topology: str,
) -> None:
    others = {"by-hand": "10.0.0.1 somewhere\n", "other-topology": "# netplan:other -- x\n"}
    for netns, text in others.items():
        hosts_path(netns).parent.mkdir()
        hosts_path(netns).write_text(text)
    leftover = hosts_path("gone")
    leftover.parent.mkdir()
    leftover.write_text(f"{hosts_marker(topology)}\n{LINES[1]}\n")
    try:
        state = observe(topology)
        assert state.foreign["hosts:by-hand"] == "is not managed by netplan"
        assert state.foreign["hosts:other-topology"] == "belongs to netplan topology 'other'"
        assert state.resources == keyed(HostsFile("gone", text_of(LINES[1:])))

        delete(topology, HostsFile("gone", text_of(LINES[1:])))
        assert not leftover.parent.exists()
        assert owned(topology) == {}
    finally:
        for netns in others:
            hosts_path(netns).unlink()
            hosts_path(netns).parent.rmdir()


def test_rewrites_and_removes_keep_what_the_file_held_for_the_undo(topology: str) -> None:
    """The journal's undo puts back the bytes the step itself read before it rewrote or
    removed the file; without a journal nothing is kept."""
    create(topology, Netns("h7"), HostsFile("h7", TEXT), Netns("h8"), HostsFile("h8", TEXT))
    newer = HostsFile("h7", text_of(("10.9.0.5 other",)))
    with Session(topology, replaced_hosts={}) as session:
        hostsfile.update(session, newer, ("digest",))
        hostsfile.update(session, HostsFile("h7", TEXT), ("digest",))
        hostsfile.delete(session, HostsFile("h8"))
    # The first bytes seen, kept once.
    assert session.replaced_hosts == {"h7": TEXT.encode(), "h8": TEXT.encode()}
    with Session(topology) as session:
        hostsfile.update(session, newer, ("digest",))
    assert session.replaced_hosts is None
    assert not hosts_path("h8").exists()
    assert owned(topology) == keyed(Netns("h7"), newer, Netns("h8"))


def test_a_symbolic_link_is_replaced_not_followed(topology: str, tmp_path: Path) -> None:
    wanted = HostsFile("h6", TEXT)
    create(topology, Netns("h6"), wanted)
    target = tmp_path / "elsewhere"
    target.write_text("untouched\n")
    hosts_path("h6").unlink()
    hosts_path("h6").symlink_to(target)
    assert owned(topology)[wanted.key] == HostsFile("h6", f"# a symbolic link to {target}\n")

    with Session(topology, replaced_hosts={}) as session:
        hostsfile.update(session, wanted, ("digest",))
    assert session.replaced_hosts == {"h6": f"# a symbolic link to {target}\n".encode()}
    assert target.read_text() == "untouched\n"
    assert not hosts_path("h6").is_symlink()
    assert owned(topology)[wanted.key] == wanted


KILLED_WHILE_WRITING = """
import os, signal, sys
from netplan.agent.api import execute
from netplan.agent.resources import HostsFile, Netns
from netplan.agent.state import Step
os.replace = lambda *_: os.kill(os.getpid(), signal.SIGKILL)  # the rename never comes
execute(sys.argv[1], [Step("create", Netns("h1")), Step("create", HostsFile("h1", "x\\n"))])
"""


def test_a_temporary_left_by_a_killed_agent_goes_with_the_destroy(topology: str) -> None:
    """SIGKILL between writing a hosts file and renaming it into place leaves the
    temporary, named as the topology's: the destroy's record removal takes it, and only
    it (a file of another topology's name stays)."""
    killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_WRITING, topology])
    assert killed.returncode == -signal.SIGKILL
    left = [p.name for p in Path(ETC_NETNS).iterdir() if p.name.startswith(".")]
    assert len(left) == 1 and left[0].startswith(f".{topology}:h1.")
    other = Path(ETC_NETNS) / f".{topology}x:h9.abcdefgh.netplan"
    other.write_text("")
    try:
        delete(topology, Netns("h1"))
        assert handle({"version": PROTOCOL_VERSION, "op": "record", "topology": topology,
                       "action": "remove"})["ok"]
        assert [p.name for p in Path(ETC_NETNS).iterdir() if p.name.startswith(".")] == [
            other.name]
    finally:
        other.unlink()


def test_a_step_refused_among_rewrites_of_one_file_rolls_back_every_name(topology: str) -> None:
    """The executor runs a run of hosts-file rewrites in one go: the third one refused,
    the two before it are undone (both names of the file they rewrote hold what they
    held again), and the one after it never ran."""
    own = {"r3": text_of(("10.9.0.7 r3",)), "r4": text_of(("10.9.0.8 r4",))}
    texts = {"r1": TEXT, "r2": TEXT, **own}
    create(topology, *(r for n, text in texts.items() for r in (Netns(n), HostsFile(n, text))))
    before = owned(topology)
    assert inodes("r1") == inodes("r2") and inodes("r1")[0][1] == 2
    steps = [Step("update", HostsFile(n, NEWER), ("digest",)) for n in texts]
    steps[2] = Step("update", HostsFile("r3", NEWER), ("netns",))  # not changeable in place
    undo = [[Step("update", before[step.resource.key], ("digest",))] for step in steps]
    with pytest.raises(StepFailed) as failed:
        transaction.apply(topology, steps, undo, True, None)
    assert failed.value.step_index == 2 and failed.value.resource == HostsFile("r3").describe()
    assert failed.value.rollback is not None
    assert (failed.value.rollback["undone"], failed.value.rollback["of"]) == (2, 2)
    assert {n: hosts_path(n).read_text() for n in texts} == {
        n: f"{hosts_marker(topology)}\n{text}" for n, text in texts.items()}
    assert owned(topology) == before


def test_a_step_refused_after_a_shared_file_was_rewritten_puts_back_every_name(
    topology: str,
) -> None:
    """Five names of one file: the first step rewrites it in place for all of them and the
    second finds it rewritten; the third is refused, so the fourth (an update) and the
    fifth (its namespace's delete) never run. Their names still have the file, now with
    the new text: the undo of the first step puts back theirs too, and the rollback
    rewrites the one file back in place, still shared by all five (same inode as before,
    five links), so a process inside any of them sees its old text again."""
    names = ("k1", "k2", "k3", "k4", "k5")
    wanted = [r for n in names for r in (Netns(n), HostsFile(n, TEXT))]
    create(topology, *wanted)
    before = owned(topology)
    shared = inodes(*names)
    assert shared == [(shared[0][0], 5)] * 5
    held = {n: hosts_path(n).read_bytes() for n in names}
    steps = [Step("update", HostsFile(n, NEWER), ("digest",)) for n in names[:4]]
    steps[2] = Step("update", HostsFile("k3", NEWER), ("netns",))  # not changeable in place
    steps.append(Step("delete", Netns("k5")))
    undo = [[Step("update", before[f"hosts:{n}"], ("digest",))] for n in names[:4]]
    undo.append([Step("create", before["netns:k5"]), Step("create", before["hosts:k5"])])
    with pytest.raises(StepFailed) as failed:
        transaction.apply(topology, steps, undo, True, None)
    assert failed.value.step_index == 2 and failed.value.rollback is not None
    assert (failed.value.rollback["undone"], failed.value.rollback["of"],
            failed.value.rollback["failures"]) == (2, 2, [])
    assert {n: hosts_path(n).read_bytes() for n in names} == held
    assert inodes(*names) == shared
    assert [getent(n, "cache").returncode for n in names] == [2] * 5
    assert owned(topology) == before
    assert plan(topology, *wanted).steps == []
