#!/usr/bin/env bash
# Run a command inside a throwaway network + mount + PID namespace (design principle 7).
# Everything it creates (links, namespaces, routes, nftables tables, /run/netns entries,
# /etc/netns files, netplan's records under /run/netplan) vanishes when the command ends,
# and the machine's own network is never in reach. So do the processes it started (a lab
# left up, a container's process): this script is the PID namespace's init, and when it
# exits the kernel ends every other process in it.
set -euo pipefail
if [ "${NETPLAN_SANDBOX:-}" != "1" ]; then
    exec unshare --net --mount --pid --fork --mount-proc --propagation private \
        env NETPLAN_SANDBOX=1 NETPLAN_OUTSIDE_NETNS="$(stat -L -c %i /proc/self/ns/net)" \
        "$0" "$@"
fi
# /etc and /run are seen through overlays whose writable layer is a tmpfs of this
# sandbox, and /run/netns, /run/netplan and /etc/netns start empty: the machine's
# namespaces, hosts files and records are not visible here, and nothing written here
# (not even a directory these need) reaches the machine's own file system.
scratch=$(mktemp -d /tmp/netplan-sandbox.XXXXXX)
cleanup() {
    umount -l /etc /run "$scratch" 2>/dev/null || true
    rmdir "$scratch"
}
trap cleanup EXIT
mount -t tmpfs -o mode=700 netplan-sandbox "$scratch"
for dir in etc run; do
    mkdir -p "$scratch/$dir/upper" "$scratch/$dir/work"
    mount -t overlay "netplan-sandbox-$dir" \
        -o "lowerdir=/$dir,upperdir=$scratch/$dir/upper,workdir=$scratch/$dir/work" "/$dir"
done
for dir in /run/netns /run/netplan /etc/netns; do
    mkdir -p "$dir"
    mount -t tmpfs -o mode=755 netplan-sandbox "$dir"
done
ip link set lo up
status=0
"$@" || status=$?
exit "$status"
