#!/usr/bin/env bash
# What wgf's speed flags (-Ounchecked -target-cpu haswell, its own builds only) are worth, and
# what a package that depends on wgf gets without them: three release builds of the same
# sources timed side by side in one sitting, one thread each:
#   fast      this checkout's build (.build; the flags on)
#   portable  WGF_PORTABLE=1: what a dependent builds (no unsafe flags; Swift's checks on)
#   portable+haswell  the same with `-Xswiftc -target-cpu -Xswiftc haswell -Xswiftc -DWGF_FMA` on the command
#             line: how a dependent gets the vector code back
# Cases: a direct 2-D Gaussian sum with gradient (N = M = 10⁴), the mesh at 1e-6 (N = M = 10⁵),
# and the quickstart's stepping rate (SVGD, 300 particles, 2000 steps). Medians of REPS.
#   scripts/bench-build-flags.sh          # REPS=5; builds into /tmp/wgf-flags-*
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPS="${REPS:-5}"
OUT="${OUT:-/tmp/wgf-bench-flags}"
PORTABLE="${PORTABLE:-/tmp/wgf-flags-portable}"   # the portable builds' scratch paths
HASWELL="${HASWELL:-/tmp/wgf-flags-haswell}"
mkdir -p "$OUT"
swift build -c release --product wgf >/dev/null
WGF_PORTABLE=1 swift build -c release --product wgf --scratch-path "$PORTABLE" >/dev/null
WGF_PORTABLE=1 swift build -c release --product wgf --scratch-path "$HASWELL" \
    -Xswiftc -target-cpu -Xswiftc haswell -Xswiftc -DWGF_FMA >/dev/null
declare -A BIN=([fast]=.build/release/wgf [portable]="$PORTABLE/release/wgf"
    [portable+haswell]="$HASWELL/release/wgf")
python3 - "$OUT" <<'PY'
import sys, numpy as np
out = sys.argv[1]
for n in (10_000, 100_000):
    rng = np.random.default_rng(n)
    np.save(f"{out}/x{n}.npy", rng.normal(size=(n, 2)))
    np.save(f"{out}/y{n}.npy", rng.normal(size=(n, 2)))
PY
echo "== $(date -Is)  loadavg $(cut -d' ' -f1-3 /proc/loadavg)  REPS=$REPS"
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
printf "%-18s %16s %16s %20s\n" build "direct 1e4 (s)" "mesh 1e5 (s)" "quickstart steps/s"
for b in fast portable portable+haswell; do
    wgf=${BIN[$b]}
    direct=$("$wgf" sum --kernel gaussian:sigma=0.5 --sources "$OUT/x10000.npy" --targets "$OUT/y10000.npy" \
        --method direct --gradient --threads 1 --repeat "$REPS" --out "$OUT/s.npy" 2>&1 >/dev/null |
        grep -o '"seconds":[0-9.e-]*' | cut -d: -f2)
    mesh=$("$wgf" sum --kernel gaussian:sigma=0.5 --sources "$OUT/x100000.npy" --targets "$OUT/y100000.npy" \
        --method mesh --tolerance 1e-6 --gradient --threads 1 --repeat "$REPS" --out "$OUT/s.npy" 2>&1 >/dev/null |
        grep -o '"seconds":[0-9.e-]*' | cut -d: -f2)
    rate=$(for r in $(seq "$REPS"); do
        "$wgf" run quickstart --out "$OUT/q-$b-$r" --force --steps 2000 --threads 1 --quiet |
            grep -o 'at [0-9]* steps/s' | awk '{print $2}'
    done | median)
    printf "%-18s %16s %16s %20s\n" "$b" "$direct" "$mesh" "$rate"
done
