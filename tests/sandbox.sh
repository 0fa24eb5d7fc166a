#!/usr/bin/env bash
# Run a command inside a throwaway network + mount namespace (design principle 7).
# Everything it creates (links, namespaces, routes, nftables tables, /run/netns entries,
# /etc/netns files, netplan's records under /run/netplan) vanishes when the command ends,
# and the machine's own network is never in reach.
set -euo pipefail
if [ "${NETPLAN_SANDBOX:-}" != "1" ]; then
    exec unshare --net --mount --propagation private env NETPLAN_SANDBOX=1 "$0" "$@"
fi
# Private, empty directories where netplan and iproute2 keep per-host state: the
# machine's namespaces, hosts files and records are not visible here. A mount point
# that had to be made for this is removed again when the command ends.
made=()
cleanup() {
    for dir in "${made[@]}"; do
        umount "$dir" 2>/dev/null || true
        rmdir "$dir" 2>/dev/null || true
    done
}
trap cleanup EXIT
for dir in /run/netns /run/netplan /etc/netns; do
    if [ ! -d "$dir" ]; then
        mkdir "$dir"
        made+=("$dir")
    fi
    mount -t tmpfs -o mode=755 netplan-sandbox "$dir"
done
ip link set lo up
status=0
"$@" || status=$?
exit "$status"
