"""`dial` against listeners on loopback that are not a working sshd: one that takes the
connection and never answers (an sshd stopped with SIGSTOP), and one that hangs up at
once. Only the first is a handshake that did not finish in time."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from providers.ssh import SSHTarget, dial
from providers.ssh_errors import SSHError

Serve = Callable[[socket.socket], None]


def silent(connection: socket.socket) -> None:
    while connection.recv(1024):  # the client's banner, then nothing until it gives up
        pass


def hang_up(connection: socket.socket) -> None:
    connection.close()


@pytest.fixture(params=[silent, hang_up], ids=["silent", "hang-up"])
def listener(request: pytest.FixtureRequest) -> Iterator[tuple[int, Serve]]:
    serve: Serve = request.param
    server = socket.create_server(("127.0.0.1", 0))

    def accept_one() -> None:
        connection, _ = server.accept()
        with connection:
            serve(connection)

    worker = threading.Thread(target=accept_one, daemon=True)
    worker.start()
    yield server.getsockname()[1], serve
    worker.join()
    server.close()


def test_a_host_that_takes_the_connection_and_never_answers_timed_out(
    listener: tuple[int, Serve],
) -> None:
    port, serve = listener
    target = SSHTarget("hostA", "127.0.0.1", port=port, timeout=0.5)
    with pytest.raises(SSHError) as raised:
        dial(target, "hostA")
    (line,) = raised.value.lines()
    where = f"root@127.0.0.1:{port}"
    if serve is silent:
        assert line == (
            f"host hostA: {where} took the connection but did not answer the SSH handshake "
            "within 0.5 s (the connect timeout) (hint: is the host, or its sshd, stopped or "
            "overloaded? with an ssh inventory, a slow host can be given a larger `timeout:`)")
    else:
        assert line.startswith(f"host hostA: SSH to {where} failed: ")
        assert "handshake" not in line
