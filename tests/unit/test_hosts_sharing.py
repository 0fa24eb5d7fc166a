"""Which names of a hosts file HostsSharing remembers once it let the file be rewritten."""

from __future__ import annotations

import os
from pathlib import Path

from netplan.agent.hosts_sharing import HostsSharing, inode_of


def linked(tmp_path: Path, *names: str) -> tuple[int, int]:
    """One file with a `hosts` name in each of `names`' directories; its inode."""
    first = tmp_path / names[0] / "hosts"
    for name in names:
        (tmp_path / name).mkdir()
        if name == names[0]:
            first.write_text("x\n")
        else:
            os.link(first, tmp_path / name / "hosts")
    found = inode_of(str(first))
    assert found is not None
    return found


def test_a_file_rewritten_remembers_its_names_but_not_those_removed(tmp_path: Path) -> None:
    inode = linked(tmp_path, "a", "b", "c", "d")
    sharing = HostsSharing()
    sharing.expect([("a", "new"), ("b", "new"), ("c", "other")], ["d"])
    assert sharing.may_rewrite(inode, 4, "new", lambda n: f"{tmp_path}/{n}/hosts")
    assert sharing.names == {"a": inode, "b": inode, "c": inode}
    assert sharing.linked == {inode: ["a", "b", "d", "c"]}  # whose file the rewrite changes


def test_a_file_another_name_keeps_remembers_no_name(tmp_path: Path) -> None:
    inode = linked(tmp_path, "a", "b", "kept")
    sharing = HostsSharing()
    sharing.expect([("a", "new"), ("b", "new")], [])
    assert not sharing.may_rewrite(inode, 3, "new", lambda n: f"{tmp_path}/{n}/hosts")
    assert sharing.names == {}
    assert sharing.linked == {}
