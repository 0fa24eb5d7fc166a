"""The vagrant provider: `vagrant ssh-config` output, in Vagrant's exact format, to SSH targets."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from netplan.errors import NetplanError
from providers.ssh_errors import SSHError
from providers.vagrant import parse_ssh_config, vagrant_provider

REPO = Path(__file__).resolve().parents[2]

# What Vagrant 2.3.4 prints for two running VirtualBox machines: its template
# (templates/commands/ssh_config/config.erb) rendered per machine, each followed by a blank
# line; a path with a space is quoted.
SSH_CONFIG = """\
Host hostA
  HostName 127.0.0.1
  User vagrant
  Port 2222
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile /home/me/netplan/.vagrant/machines/hostA/virtualbox/private_key
  IdentitiesOnly yes
  LogLevel FATAL

Host hostB
  HostName 127.0.0.1
  User vagrant
  Port 2200
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile "/home/me/my labs/.vagrant/machines/hostB/virtualbox/private_key"
  IdentitiesOnly yes
  LogLevel FATAL

"""


def test_each_machine_becomes_a_target_as_vagrant_reports_it() -> None:
    targets = parse_ssh_config(SSH_CONFIG, ["hostA", "hostB"])
    a, b = targets["hostA"], targets["hostB"]
    assert (a.address, a.port, b.port) == ("127.0.0.1", 2222, 2200)
    assert a.keys == (Path("/home/me/netplan/.vagrant/machines/hostA/virtualbox/private_key"),)
    assert b.keys == (Path("/home/me/my labs/.vagrant/machines/hostB/virtualbox/private_key"),)
    assert a.user == "vagrant" and a.sudo
    assert a.underlay == b.underlay == "eth1"


def test_vagrants_no_host_key_checking_is_applied_explicitly() -> None:
    """StrictHostKeyChecking no + /dev/null: paramiko ignores both, so the policy is set."""
    assert parse_ssh_config(SSH_CONFIG, ["hostA"])["hostA"].host_keys == "accept"


def test_host_key_checking_when_vagrant_asks_for_it(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    text = f"Host hostA\n  HostName 10.0.0.5\n  Port 22\n  UserKnownHostsFile {known}\n\n"
    target = parse_ssh_config(text, ["hostA"])["hostA"]
    assert (target.host_keys, target.known_hosts) == ("verify", known)


def test_machines_not_in_the_output_are_left_out() -> None:
    assert set(parse_ssh_config(SSH_CONFIG, ["hostA", "hostC", "*"])) == {"hostA"}


@pytest.fixture
def fake_vagrant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `vagrant` on PATH that prints hostA only and complains about hostB, as Vagrant does
    when one machine is not up; and a Vagrantfile in tmp_path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "vagrant"
    block = SSH_CONFIG.split("\n\n")[0]
    script.write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n\\n' '{block}'\n"
        "printf '%s\\n' 'The provider for this Vagrant-managed machine is reporting that it' "
        "'is not yet ready for SSH. Depending on your provider this can carry' "
        "'different meanings.' '' 'If you believe this is not the case, run' "
        "'vagrant status for more details.' >&2\n"
        "exit 1\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "Vagrantfile").write_text("Vagrant.configure('2') {}\n")
    return tmp_path


def test_a_machine_that_is_not_up_fails_alone_with_vagrants_words(fake_vagrant: Path) -> None:
    connectors = vagrant_provider(["hostA", "hostB"], fake_vagrant / "Vagrantfile")
    assert set(connectors) == {"hostA", "hostB"}
    with pytest.raises(SSHError) as caught:
        connectors["hostB"]()
    (line,) = caught.value.lines()
    assert line.startswith("host hostB: vagrant ssh-config in ")
    assert line.endswith(": vagrant says: The provider for this Vagrant-managed machine is "
                         "reporting that it is not yet ready for SSH. Depending on your provider "
                         "this can carry different meanings. (hint: vagrant up hostB)")


def test_without_a_vagrantfile(tmp_path: Path) -> None:
    with pytest.raises(NetplanError, match=r"no Vagrantfile in .*hint: run in the Vagrantfile"):
        vagrant_provider(["hostA"], tmp_path)


def test_without_vagrant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Vagrantfile").write_text("")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NetplanError, match="vagrant is not installed"):
        vagrant_provider(["hostA"], tmp_path)


@pytest.fixture(scope="module")
def vagrant_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Vagrant's own directory (~/.vagrant.d), made once for the tests below."""
    return tmp_path_factory.mktemp("vagrant.d")


def validate(vagrantfile: str, project: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """`vagrant validate --ignore-provider` on a copy of a Vagrantfile, for 3 hosts."""
    (project / "Vagrantfile").write_text(vagrantfile)
    env = {**os.environ, "VAGRANT_HOME": str(home), "NETPLAN_HOSTS": "3"}
    return subprocess.run(
        ["vagrant", "validate", "--ignore-provider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


needs_vagrant = pytest.mark.skipif(
    shutil.which("vagrant") is None, reason="vagrant is not installed (make deps installs it)"
)


@needs_vagrant
def test_the_vagrantfile_is_valid(tmp_path: Path, vagrant_home: Path) -> None:
    result = validate((REPO / "Vagrantfile").read_text(), tmp_path, vagrant_home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hostC" in result.stdout


@needs_vagrant
def test_validate_rejects_unknown_settings(tmp_path: Path, vagrant_home: Path) -> None:
    """The check above means something: a misspelled setting fails validation."""
    broken = (REPO / "Vagrantfile").read_text().replace("node.vm.hostname", "node.vm.hostnam")
    result = validate(broken, tmp_path, vagrant_home)
    assert result.returncode != 0
    assert "hostnam" in result.stdout + result.stderr
