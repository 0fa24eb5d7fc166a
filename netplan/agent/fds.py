"""Reading an open file descriptor whole. Standard library only: shipped to remote hosts
inside the agent."""

from __future__ import annotations


def read_to_end(fd: int) -> bytes:
    """All the bytes from the fd's position to its end: a file's end, or a pipe's once
    every writer has closed it. Unbuffered (one read of a file's size); the fd stays open."""
    with open(fd, "rb", buffering=0, closefd=False) as file:
        return file.readall()
