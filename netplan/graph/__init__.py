"""`netplan graph`: the topology (or what the hosts have) as DOT, Mermaid, SVG or PNG."""
