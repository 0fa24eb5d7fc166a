#!/usr/bin/env bash
# Run a command inside a throwaway network + mount namespace (design principle 7).
# Everything it creates (links, namespaces, routes, nftables tables, /run/netns entries)
# vanishes when the command ends, and the machine's own network is never in reach.
set -euo pipefail
if [ "${NETPLAN_SANDBOX:-}" != "1" ]; then
    exec unshare --net --mount --propagation private env NETPLAN_SANDBOX=1 "$0" "$@"
fi
# A private `ip netns` list and /etc/netns: the machine's namespaces are not visible here.
mkdir -p /run/netns
mount -t tmpfs -o mode=755 netplan-sandbox /run/netns
if [ -d /etc/netns ]; then
    mount -t tmpfs -o mode=755 netplan-sandbox /etc/netns
fi
ip link set lo up
exec "$@"
