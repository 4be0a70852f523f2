#!/usr/bin/env bash
# The README's figures that have no peer to run beside them, in one sitting:
#   log kernel, 2-D, N = M = 1e5, mesh at 1e-6 with near field (1 thread), and its error
#     against direct on 2000 targets;
#   sliced energy distance, d = 10, N = M = 1e5, 256 directions (1 and 2 threads);
#   one 2-D SVGD step with 1e5 particles (auto → mesh, subsampled median);
#   one step of the 2-D attraction–repulsion swarm at N = 1e4, 1e5 (and 1e6 with BIG=1).
#
#   scripts/bench-other-sums.sh          # OUT (default /tmp/wgf-bench-other), PYTHON (python3 with numpy)
#   PARTS=swarm SWARM_SIZES="10000 1000000" scripts/bench-other-sums.sh   # only the swarm, at those N
#
# Environment: PARTS (default "log sliced svgd swarm": which of the four to run), SWARM_SIZES
# (default "10000 100000", and 1000000 with BIG=1), SWARM_STEPS (default 10, 5 from N = 1e6,
# 3 from 1e7). The swarm's figures are also written to $OUT/swarm.csv (state, N, first step,
# median of the later steps, run.json's stepping seconds per step (a mean, the first step
# included), µs per particle, peak resident GB).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${OUT:-/tmp/wgf-bench-other}"
PYTHON="${PYTHON:-python3}"
PARTS=" ${PARTS:-log sliced svgd swarm} "
mkdir -p "$OUT"
swift build -c release >/dev/null
W=.build/release/wgf
echo "== $(date -Is)  loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ "$PARTS" == *" log "* || "$PARTS" == *" sliced "* ]]; then
"$PYTHON" - "$OUT" <<'PY'
import sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(0)
def save(name, a):
    d = a.shape[1]
    np.savetxt(f"{out}/{name}.csv", a, delimiter=",", header=",".join(f"x{k+1}" for k in range(d)), comments="", fmt="%.17g")
save("log-points", rng.normal(size=(100000, 2)))
save("sliced-src", rng.normal(size=(100000, 10)))
save("sliced-tgt", rng.normal(size=(100000, 10)))
PY
fi
if [[ "$PARTS" == *" log "* ]]; then
head -n 2001 "$OUT/log-points.csv" > "$OUT/log-subset.csv"
echo "-- log kernel, mesh 1e-6, 1 thread"
$W sum --kernel log --sources "$OUT/log-points.csv" --targets "$OUT/log-points.csv" --method mesh --tolerance 1e-6 \
    --gradient --threads 1 --repeat 3 --out "$OUT/log-mesh.csv"
$W sum --kernel log --sources "$OUT/log-points.csv" --targets "$OUT/log-subset.csv" --method direct --gradient \
    --out "$OUT/log-direct.csv" 2>/dev/null
"$PYTHON" - "$OUT" <<'PY'
import sys, numpy as np
out = sys.argv[1]
a = np.loadtxt(f"{out}/log-direct.csv", delimiter=",", skiprows=1)
b = np.loadtxt(f"{out}/log-mesh.csv", delimiter=",", skiprows=1)[:len(a)]
print("log mesh error vs direct: value %.2e gradient %.2e" % (abs(a[:, 0] - b[:, 0]).max() / abs(a[:, 0]).max(),
                                                             abs(a[:, 1:] - b[:, 1:]).max() / abs(a[:, 1:]).max()))
PY
fi
if [[ "$PARTS" == *" sliced "* ]]; then
echo "-- sliced riesz:r=1, d = 10, P = 256"
for t in 1 2; do
    $W sum --kernel riesz:r=1 --sources "$OUT/sliced-src.csv" --targets "$OUT/sliced-tgt.csv" --method sliced \
        --directions 256 --gradient --threads $t --repeat 3 --out /dev/null
done
fi
if [[ "$PARTS" == *" svgd "* ]]; then
echo "-- 2-D SVGD, 1e5 particles (wall column: seconds since start)"
$W run scenarios/svgd-gaussian-2d.toml --out "$OUT/svgd" --force --steps 5 --set population.count=100000 --set record-every=1 \
    --set 'record.metrics=["mean-error"]' --set 'expect=[]' --set record.trajectory=false --quiet
cat "$OUT/svgd/metrics.csv"
fi
[[ "$PARTS" == *" swarm "* ]] || exit 0
echo "-- swarm step (mesh at 1e-3, 2 threads), from a Gaussian blob (std 0.5) and from the swarm's pattern (the uniform unit disc):"
echo "   the first step (grid, multiplier and FFT plans built) and the median of the later ones, from the wall column of metrics.csv;"
echo "   the run's peak resident memory (GNU time)"
sizes="10000 100000"; [[ "${BIG:-0}" == 1 ]] && sizes="$sizes 1000000"
sizes="${SWARM_SIZES:-$sizes}"
timer=(); [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f %M -o "$OUT/rss")
echo "state,N,first_s,later_median_s,stepping_mean_s,us_per_particle,max_rss_gb" > "$OUT/swarm.csv"
for n in $sizes; do
    "$PYTHON" - "$OUT" "$n" <<'PY'
import sys, numpy as np
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(1)
r, t = np.sqrt(rng.uniform(size=n)), rng.uniform(0, 2 * np.pi, size=n)
np.save(f"{out}/disc-{n}.npy", np.c_[r * np.cos(t), r * np.sin(t)])
PY
    steps=10; (( n >= 1000000 )) && steps=5; (( n >= 10000000 )) && steps=3
    steps="${SWARM_STEPS:-$steps}"
    for state in blob disc; do
        init='{kind="gaussian",mean=[0,0],std=0.5}'
        [[ $state == disc ]] && init="{kind=\"file\",file=\"$OUT/disc-$n.npy\"}"
        echo 0 > "$OUT/rss"
        "${timer[@]}" $W run scenarios/swarm-attraction-repulsion-2d.toml --out "$OUT/swarm-$state-$n" --force --quiet --set population.count="$n" \
            --set "population.init=$init" --set flow.summation=mesh --set flow.tolerance=1e-3 \
            --steps "$steps" --set record-every=1 --set 'record.metrics=[]' --set 'expect=[]' --set record.trajectory=false --threads 2
        "$PYTHON" - "$OUT/swarm-$state-$n" "$state" "$n" "$(cat "$OUT/rss")" "$OUT/swarm.csv" <<'PY'
import sys, csv, json, statistics
wall = [float(r["wall"]) for r in csv.DictReader(open(f"{sys.argv[1]}/metrics.csv"))]
run = json.load(open(f"{sys.argv[1]}/run.json"))
mean = run["seconds"]["stepping"] / run["steps-taken"]
steps = [b - a for a, b in zip(wall, wall[1:])]
n = int(sys.argv[3]); later = statistics.median(steps[1:] or steps)
rss = int(sys.argv[4])
print(f"{sys.argv[2]} N={n}: first step {steps[0]:.3f} s, later steps median {later:.4g} s = {1e6 * later / n:.2f} µs per particle"
      + f" (run.json stepping {mean:.4g} s per step)" + (f", max resident {rss / 2**20:.2f} GB" if rss > 0 else ""))
with open(sys.argv[5], "a") as f:
    f.write(f"{sys.argv[2]},{n},{steps[0]:.6g},{later:.6g},{mean:.6g},{1e6 * later / n:.6g},{rss / 2**20 if rss > 0 else ''}\n")
PY
    done
done
