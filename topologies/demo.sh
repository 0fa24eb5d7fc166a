#!/usr/bin/env bash
# `make demo` runs this inside a throwaway network + mount namespace (tests/sandbox.sh):
# a lab of two simulated hosts (each its own network, mount and UTS namespace with a real
# sshd on 192.168.56.11/.12), the classic two-VM VXLAN demo applied to them over SSH,
# and its reachability checks (hostA's container reaches hostB's through the tunnel). Everything vanishes at
# the end; the machine's own network is never touched.
set -euo pipefail
cd "$(dirname "$0")"
export NETPLAN_LAB_DIR="${NETPLAN_LAB_DIR:-/tmp/netplan-demo-lab}"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
on() {  # run a command on a lab host over SSH, as a user would
    local host=$1; shift
    printf '$ [%s] %s\n' "$host" "$*"
    ssh -q -i "$NETPLAN_LAB_DIR/id_ed25519" -o UserKnownHostsFile="$NETPLAN_LAB_DIR/known_hosts" \
        -o BatchMode=yes "root@$host" "$@"
}
trap 'netplan lab down >/dev/null 2>&1 || true' EXIT

say "Bring up a lab of two hosts (like two Vagrant VMs on 192.168.56.0/24)"
run netplan lab up --hosts hostA,hostB

say "Plan the overlay: hostA and hostB, VNI 42, web 10.88.0.1 on hostA, db 10.88.0.2 on hostB"
run netplan plan overlay.yaml --provider lab

say "Apply it over SSH to both hosts in parallel, then verify"
run netplan apply overlay.yaml --provider lab --yes

say "The topology's reachability checks: web (hostA) and db (hostB) through the VXLAN tunnel"
run netplan verify overlay.yaml --provider lab

say "What hostA has: the VXLAN device (UDP 4789, MTU 1450) and its forwarding entries"
on 192.168.56.11 ip -d link show vx-overlay | head -3
on 192.168.56.11 bridge fdb show dev vx-overlay

say "A second apply has nothing to do; check is the CI drift gate"
run netplan apply overlay.yaml --provider lab --yes
run netplan check overlay.yaml --provider lab

say "Drift: someone deletes db's veth on hostB"
on 192.168.56.12 ip -n db link del eth0
status=0; netplan check overlay.yaml --provider lab || status=$?
echo "netplan check exited $status (2 = drift)"
run netplan apply overlay.yaml --provider lab --yes --verify

say "Look around yourself"
cat <<HELP
  netplan lab status                         the hosts, how to log in or enter them
  ssh -i $NETPLAN_LAB_DIR/id_ed25519 root@192.168.56.11
  netplan show topologies/overlay.yaml --provider lab
  netplan check topologies/overlay.yaml --provider lab
  netplan destroy topologies/overlay.yaml --provider lab --yes; netplan lab down
(run them inside the same sandbox: tests/sandbox.sh bash)
HELP

say "Tear down: destroy the topology, then the lab"
run netplan destroy overlay.yaml --provider lab --yes
run netplan lab down
