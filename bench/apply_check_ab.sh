#!/usr/bin/env bash
# apply, check, check again and destroy at size N, for two or more netplan source trees
# run alternately (an A/B of a change to those commands), each tree with a compile cache
# of its own; the medians in milliseconds at the end. Run inside the sandbox, as root:
#
#   git worktree add /tmp/base <commit>
#   tests/sandbox.sh bench/apply_check_ab.sh 500 7 /tmp/base .
#
# Arguments: N, runs, then the trees (the first tree's venv runs them all: each tree's own
# netplan is imported from its directory). Each run times, per tree, `apply FILE --yes`,
# `check FILE` and `check FILE` once more, then destroys untimed and leaves the kernel
# 1.5 s to free the namespaces; the trees' order is swapped every other run.
set -euo pipefail
[ "${NETPLAN_SANDBOX:-}" = 1 ] || { echo "run it inside tests/sandbox.sh" >&2; exit 1; }
n=$1 runs=$2
shift 2
trees=()
for tree in "$@"; do trees+=("$(cd "$tree" && pwd)"); done
python=${trees[0]}/.venv/bin/python
[ -x "$python" ] || python=$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python
unset PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX  # bytecode, as an installed package has
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
bench=$(cd "$(dirname "$0")" && pwd)
"$python" -c "import sys; sys.path.insert(0, '$bench'); from ipbatch import Topo; \
open('$scratch/topology.yaml', 'w').write(Topo($n, 1).yaml())"
for i in "${!trees[@]}"; do
    "$python" -m compileall -q "${trees[$i]}/netplan" "${trees[$i]}/providers" >/dev/null
    mkdir -m 700 "$scratch/cache$i"
done

ms() {  # the command's wall time in ms; its output discarded
    local start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
    echo $(( ($(date +%s%N) - start) / 1000000 ))
}

for run in $(seq "$runs"); do
    order=("${!trees[@]}")
    [ $((run % 2)) = 0 ] && order=($(printf '%s\n' "${order[@]}" | tac))
    for i in "${order[@]}"; do
        cd "${trees[$i]}"
        export NETPLAN_CACHE_DIR=$scratch/cache$i
        apply=$(ms "$python" -m netplan apply "$scratch/topology.yaml" --yes)
        check=$(ms "$python" -m netplan check "$scratch/topology.yaml")
        again=$(ms "$python" -m netplan check "$scratch/topology.yaml")
        "$python" -m netplan destroy "$scratch/topology.yaml" --yes >/dev/null
        sleep 1.5
        echo "$i apply $apply check $check again $again" | tee -a "$scratch/times"
    done
done
"$python" - "$scratch/times" "${trees[@]}" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for i, tree in enumerate(sys.argv[2:]):
    mine = [r for r in rows if r[0] == str(i)]
    medians = {op: statistics.median(int(r[k + 1]) for r in mine)
               for k, op in ((1, "apply"), (3, "check"), (5, "again"))}
    print(tree, " ".join(f"{op} {ms:g} ms" for op, ms in medians.items()), f"({len(mine)} runs)")
EOF
