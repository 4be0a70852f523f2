#!/usr/bin/env bash
# Time `wgf sum` (direct, and mesh at tolerance 1e-6) beside the peers of
# ../shared/peers/kernel_sum.py (numpy brute force, pykeops, the finufft pipeline) in one
# sitting, one thread each, on the same problem: s(y_j) = Σ_i w_i exp(−|y_j − x_i|²/(2σ²)) and
# its gradient, σ = 0.5, 2-D, x, y ~ N(0, I), w ~ U(0, 1), M = N. The peers draw their own
# points from the same distribution; wgf's are drawn here with numpy (seed fixed).
#
#   scripts/compare-kernel-sum-peer.sh            # SIZES="1000 10000", REPS=5
#   SIZES="10000 100000 1000000" REPS=3 scripts/compare-kernel-sum-peer.sh   # the README's table
#
# Environment: PEERS (default ../shared/peers), PYTHON (default /tmp/peers-venv/bin/python, a venv
# with ../shared/peers/requirements.txt), SIZES, REPS, OUT (default /tmp/wgf-compare-kernel-sum).
# wgf direct runs up to N = 1e4 on all targets; above, its error reference is direct on the
# first 2000 targets only (timed columns are the full problems). The peers skip their own brute
# force above a minute per call.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PEERS="${PEERS:-../shared/peers}"
PYTHON="${PYTHON:-/tmp/peers-venv/bin/python}"
SIZES="${SIZES:-1000 10000}"
REPS="${REPS:-5}"
OUT="${OUT:-/tmp/wgf-compare-kernel-sum}"
[[ -f "$PEERS/kernel_sum.py" ]] || { echo "error: $PEERS/kernel_sum.py not found (set PEERS)" >&2; exit 1; }
[[ -x "$PYTHON" ]] || { echo "error: $PYTHON not found (set PYTHON; see $PEERS/README.md)" >&2; exit 1; }
mkdir -p "$OUT"
swift build -c release >/dev/null
echo "== $(date -Is)  loadavg $(cut -d' ' -f1-3 /proc/loadavg)"

KEOPS_CACHE_FOLDER="${KEOPS_CACHE_FOLDER:-$OUT/keops}" "$PYTHON" "$PEERS/kernel_sum.py" \
    --sizes $SIZES --reps "$REPS" --threads 1 --out "$OUT/peers.csv" >/dev/null 2>&1

for n in $SIZES; do
    "$PYTHON" - "$n" "$OUT" <<'PY'
import sys, numpy as np
n, out = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(n)
x, y, w = rng.normal(size=(n, 2)), rng.normal(size=(n, 2)), rng.uniform(size=n)
np.savetxt(f"{out}/src-{n}.csv", np.column_stack([x, w]), delimiter=",", header="x1,x2,w", comments="", fmt="%.17g")
np.savetxt(f"{out}/tgt-{n}.csv", y, delimiter=",", header="x1,x2", comments="", fmt="%.17g")
PY
    run() {  # method targets-file out-name repeats
        .build/release/wgf sum --kernel gaussian:sigma=0.5 --sources "$OUT/src-$n.csv" --targets "$2" \
            --method "$1" --tolerance 1e-6 --gradient --threads 1 --repeat "$4" --out "$OUT/$3-$n.csv" 2> "$OUT/$3-$n.json"
    }
    run mesh "$OUT/tgt-$n.csv" mesh "$REPS"
    if (( n <= 10000 )); then
        run direct "$OUT/tgt-$n.csv" direct "$REPS"
        cp "$OUT/mesh-$n.csv" "$OUT/mesh-subset-$n.csv"
    else
        head -n 2001 "$OUT/tgt-$n.csv" > "$OUT/tgt-subset-$n.csv"
        run direct "$OUT/tgt-subset-$n.csv" direct 1
        head -n 2001 "$OUT/mesh-$n.csv" > "$OUT/mesh-subset-$n.csv"
    fi
done

"$PYTHON" - "$OUT" "$SIZES" <<'PY'
import csv, json, sys
out, sizes = sys.argv[1], [int(s) for s in sys.argv[2].split()]
peers = {(r["method"], int(r["N"])): float(r["median_s"]) for r in csv.DictReader(open(f"{out}/peers.csv")) if r["median_s"]}
def err(n, method):
    import numpy as np
    a, b = np.loadtxt(f"{out}/direct-{n}.csv", delimiter=",", skiprows=1), np.loadtxt(f"{out}/{method}-subset-{n}.csv", delimiter=",", skiprows=1)
    return max(abs(a[:, 0] - b[:, 0]).max() / abs(a[:, 0]).max(), abs(a[:, 1:] - b[:, 1:]).max() / abs(a[:, 1:]).max())
print(f"{'N':>8} {'method':>18} {'seconds':>10} {'numpy/this':>11} {'this/finufft-1e-6':>18} {'rel. error':>11}")
for n in sizes:
    rows = [(m, t) for (m, k), t in sorted(peers.items()) if k == n]
    for m in ("direct", "mesh") if n <= 10000 else ("mesh",):
        rows.append((f"wgf-{m}", json.load(open(f"{out}/{m}-{n}.json"))["seconds"]))
    rows.append(("wgf-mesh per point", rows[-1][1] / n))
    numpy, fin = peers.get(("numpy-brute", n)), peers.get(("nufft-eps1e-6", n))
    for m, t in rows:
        if m == "wgf-mesh per point":
            print(f"{n:>8} {m:>18} {t * 1e6:>8.3f}µs")
            continue
        e = f"{err(n, m[4:]):.1e}" if m == "wgf-mesh" else ""
        print(f"{n:>8} {m:>18} {t:>10.4g} {numpy / t if numpy else float('nan'):>11.2f} {t / fin if fin else float('nan'):>18.2f} {e:>11}")
PY
