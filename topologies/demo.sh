#!/usr/bin/env bash
# `make demo` runs this inside a throwaway network + mount namespace (tests/sandbox.sh):
# everything it builds vanishes at the end, and the machine's own network is never touched.
set -euo pipefail
cd "$(dirname "$0")"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "Validate and plan Docker's default-bridge example"
run netplan validate default-bridge.yaml
run netplan plan default-bridge.yaml

say "Apply it: a docker0 bridge, two namespaces, veths, addresses, default routes"
run netplan apply default-bridge.yaml --yes

say "alpine1 (172.17.0.2) pings alpine2 (172.17.0.3) through docker0"
run ip netns exec alpine1 ping -c 2 -W 1 172.17.0.3

say "A second apply has nothing to do"
run netplan apply default-bridge.yaml --yes

say "What the kernel has, as a topology"
run netplan show default-bridge.yaml

say "Drift: someone sets alpine2's eth0 down behind netplan's back"
run ip -n alpine2 link set eth0 down
status=0; netplan check default-bridge.yaml || status=$?
echo "netplan check exited $status (2 = drift)"

say "apply repairs it; check is clean again"
run netplan apply default-bridge.yaml --yes
run netplan check default-bridge.yaml

say "Destroy: everything the topology made goes, nothing else"
run netplan destroy default-bridge.yaml --yes
run ip netns list
