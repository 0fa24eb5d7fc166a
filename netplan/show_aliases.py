"""The aliases of each container on each of its networks, read back from the hosts files
netplan wrote (netplan/etchosts.py renders them): what `netplan show` prints under a
container's network, so that its output applied again renders the same files.

A container's line on a network is `ADDRESS NAME ALIAS...` in every file that lists it,
except in its own file when it has a `hostname`: there its first line is `ADDRESS NAME
HOSTNAME SHORT ALIAS...` (repeated names written once), and its line on each further
network is `ADDRESS ALIAS...`, without its name (or no line, without aliases). So a
container's aliases are read from the file of another container on the same network
where there is one: its line there has the plain form. Only a container alone on a
network is read from its own file, where the hostname its process has (`hostname`, as
show prints it) tells the hostname's names from aliases. Pure: texts in, aliases out.
"""

from __future__ import annotations

from collections.abc import Mapping

Attachment = tuple[str, str]
"""(container, network)."""


def hosts_lines(text: str) -> dict[str, list[str]]:
    """A hosts file's lines by their address: the names after it, in the file's order
    (the first line of an address; comments and blank lines skipped)."""
    lines: dict[str, list[str]] = {}
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) > 1:
            lines.setdefault(words[0], words[1:])
    return lines


def read_aliases(files: Mapping[str, str], addresses: Mapping[Attachment, str],
                 hostnames: Mapping[str, str]) -> dict[Attachment, list[str]]:
    """The aliases of each (container, network) in `addresses` (its IPv4 address there)
    that has any, in the order its line has them, from `files` (container → the text of
    its hosts file; a container without one is left out) and `hostnames` (container → the
    hostname its process has, for those that have one)."""
    owners: dict[str, list[str]] = {}  # the containers of a network share one text
    for container, text in files.items():
        owners.setdefault(text, []).append(container)
    parsed = {text: hosts_lines(text) for text in owners}
    plain: dict[tuple[str, str], list[str]] = {}
    for text, lines in parsed.items():
        alone = owners[text][0] if len(owners[text]) == 1 else None
        for address, names in lines.items():
            if names[0] != alone:  # a line in another container's file: the plain form
                plain.setdefault((address, names[0]), names[1:])
    found: dict[Attachment, list[str]] = {}
    for (container, network), address in addresses.items():
        aliases = plain.get((address, container))
        if aliases is None:
            own_text = files.get(container)
            own = [] if own_text is None else parsed[own_text].get(address, [])
            aliases = _own_aliases(container, own, hostnames.get(container))
        if aliases:
            found[(container, network)] = aliases
    return found


def _own_aliases(container: str, names: list[str], hostname: str | None) -> list[str]:
    """The aliases on a container's own line in its own file: after its name, past its
    hostname and the hostname's first label when it has one; a line without its name
    (a further network of a container with a hostname) is aliases alone."""
    if not names or names[0] != container:
        return names
    rest = names[1:]
    if hostname is not None:
        for name in (hostname, hostname.split(".", 1)[0]):
            if rest and rest[0] == name:
                rest = rest[1:]
    return rest
