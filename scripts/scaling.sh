#!/bin/bash
# scripts/scaling.sh [WGF] [N] [STEPS] [CASES]: one step of a 2-D run on 1 process against K MPI
# ranks on this machine. Cases (default all):
#   swarm-disc  the attraction–repulsion swarm (Langevin, quadratic + log interaction, mesh at 1e-6)
#               started in its pattern, the uniform unit disc: the grid stays, as in a long run
#   swarm-blob  the same from a Gaussian blob (std 0.2): the grid grows while the blob spreads, so
#               the mesh's multiplier is rebuilt (on every rank) most steps
#   svgd        SVGD on the 2-D Gaussian target (Gaussian kernel, mesh)
#   weak        the disc swarm with N particles per rank on 1, 2 and 4 ranks (4 oversubscribe the 2 cores)
#   two-layer   the two-layer network with N neurons on 10 N training samples (d = 10)
#   formula-swarm  the swarm with its interaction as a formula (O(N²) direct pairs)
#   double-well Langevin in a formula double well, no interaction (O(N) throughout)
# Strong scaling prints, for 1 rank × 1 thread, 1 rank × 2 threads and 2 ranks × 1 thread, the
# median step time after the first (from metrics.csv's wall column, a record every step, no
# metrics), and for the ranks the bytes rank 0 sent per step (run.json's bytes-sent-by-rank-0 /
# steps, the first step's set-up included). docs/scaling.md quotes its output; the machine is
# shared: compare ratios from one sitting.
wgf=${1:-.build/release/wgf}; n=${2:-1000000}; steps=${3:-6}; cases=${4:-"swarm-disc swarm-blob svgd weak"}
out=$(mktemp -d); trap "rm -rf $out" EXIT
mpi="mpirun --allow-run-as-root --oversubscribe --mca btl self,vader"
common="--steps $steps --quiet --set record-every=1 --set record.trajectory=false --set record.metrics=[] --set expect=[]"
swarm="scenarios/swarm-attraction-repulsion-2d.toml --set flow.summation=mesh"
disc() { # the uniform unit disc of $1 points, in $out/disc-$1.csv
    python3 - "$out/disc-$1.csv" "$1" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(1); n = int(sys.argv[2])
r, t = np.sqrt(rng.uniform(size=n)), rng.uniform(0, 2 * np.pi, size=n)
np.savetxt(sys.argv[1], np.c_[r * np.cos(t), r * np.sin(t)], delimiter=",", header="x1,x2", comments="", fmt="%.17g")
PY
}
# Median step after the first, and rank 0's bytes per step, of run directory $1.
measure() {
    python3 - "$1" "$steps" <<'PY'
import sys, csv, json, statistics
d, steps = sys.argv[1], int(sys.argv[2])
wall = [float(r["wall"]) for r in csv.DictReader(open(d + "/metrics.csv"))]
later = statistics.median(b - a for a, b in zip(wall[1:], wall[2:]))
sent = json.load(open(d + "/run.json")).get("bytes-sent-by-rank-0")
print(f"{later:.4g} s/step" + (f", rank 0 sent {sent / steps / 1e6:.1f} MB/step" if sent else ""))
PY
}
run() { # label ranks threads N scenario-arguments...
    local label=$1 ranks=$2 threads=$3 count=$4; shift 4
    local d=$out/$label-$ranks-$threads-$count
    if ((ranks > 1)); then $mpi -np $ranks $wgf run "$@" --out $d --threads $threads --set population.count=$count $common > /dev/null
    else $wgf run "$@" --out $d --threads $threads --set population.count=$count $common > /dev/null; fi || { echo "$label failed"; exit 1; }
    echo "$label N=$count, $ranks rank(s) × $threads thread(s): $(measure $d)"
}
for case in $cases; do
    case $case in
    swarm-disc) disc $n; args="$swarm --set population.init={kind=\"file\",file=\"$out/disc-$n.csv\"}" ;;
    swarm-blob) args="$swarm" ;;
    svgd) args="scenarios/svgd-gaussian-2d.toml --set flow.summation=mesh" ;;
    two-layer) args="scenarios/two-layer-student-teacher.toml --set flow.train-samples=$((10 * n)) --set flow.test-samples=1000" ;;
    formula-swarm) args="scenarios/formula-swarm-2d.toml" ;;
    double-well) args="scenarios/formula-double-well-langevin.toml" ;;
    weak)
        for k in 1 2 4; do
            disc $((n * k))
            run weak $k 1 $((n * k)) $swarm --set "population.init={kind=\"file\",file=\"$out/disc-$((n * k)).csv\"}"
        done
        continue ;;
    *) echo "unknown case $case"; exit 2 ;;
    esac
    run $case 1 1 $n $args
    run $case 1 2 $n $args
    run $case 2 1 $n $args
done
