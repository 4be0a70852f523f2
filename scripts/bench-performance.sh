#!/usr/bin/env bash
# Issue 19's ratios, each against its peer or goal, in one sitting, with the date and the load
# average at the start and end of every stage, and one summary table at the end (goal, measured,
# target, met). It runs the other scripts/ benchmarks and reads their outputs:
#
#   mesh     the mesh against the finufft pipeline of ../shared/peers/kernel_sum.py (type 1, times
#            the Gaussian's transform, one 3-channel type 2): 2-D Gaussian sum with gradient,
#            σ = 0.5, x, y ~ N(0, I), w ~ U(0, 1), N = M ∈ SIZES, one thread, at tolerance (wgf)
#            = eps (finufft) = 1e-3, 1e-6, 1e-9, interleaved per (N, tolerance). Medians of REPS
#            calls (wgf sum --repeat; kernel_sum.timeit, after a warm-up), and both errors,
#            max(value, gradient) as kernel_sum.rel_err, against wgf direct on the first 2000
#            targets. Goal: mesh / finufft ≤ 0.5 at 1e-6, ≤ 0.7 at 1e-3 and 1e-9, at every N.
#            (compare-kernel-sum-peer.sh times 1e-6 only, and spends minutes on numpy and KeOps
#            at 1e5 and above; this stage imports kernel_sum.py's pipeline instead.)
#   swarm    one 2-D attraction–repulsion swarm step (quadratic + log, mesh at 1e-3, 2 threads),
#            from the uniform disc and from a Gaussian blob (std 0.5): bench-other-sums.sh's swarm
#            part (the README's figures), at N = 1e4, 1e5, 1e6 (and 1e7 with BIG=1): the median of
#            the steps after the first, run.json's mean, µs per particle against the smallest N,
#            peak resident memory (GNU time). Goal: ≤ 1 s a step at 1e6, ≤ 12 s and ≤ 12 GB at 1e7,
#            cost per particle within 1.5× of 1e4's.
#   svgd     SVGD at N = 5000, summation auto, one thread, against the reference SVGD code:
#            compare-svgd-peer.sh's ratio (reference mean s/iteration / wgf s/step). Goal ≥ 100×.
#   auto     bench-auto-choice.py: auto's engine against the fastest of direct and mesh. By default
#            a quick grid (N = 1000, 4000: where the cases above 1.3× have been), FULL=1 its full
#            grid. The worst auto / fastest; goal ≤ 1.3.
#   formula  wgf sum --method mesh with the kernel 'formula:exp(-r^2/(2*0.5^2))' against the
#            built-in gaussian:sigma=0.5, 2-D, N = M = 1e5 (the mesh stage's points), tolerance 1e-6,
#            one thread, medians of REPS; both errors against direct on 2000 targets. Goal: time
#            ratio about 1 (met here when ≤ FORMULA_LIMIT, 1.2).
#
#   scripts/bench-performance.sh                               # every stage, default sizes
#   QUICK=1 scripts/bench-performance.sh                       # tiny sizes: a smoke test (minutes)
#   STAGES="mesh" SIZES="10000 100000" scripts/bench-performance.sh
#   BIG=1 FULL=1 scripts/bench-performance.sh                  # + the swarm at 1e7, auto's full grid
#
# Environment: STAGES (default "mesh swarm svgd auto formula"), QUICK (1: tiny sizes), SIZES
# (mesh, default "10000 100000 1000000"), TOLERANCES (mesh, default "1e-3 1e-6 1e-9"), REPS
# (mesh and formula, default 5), SWARM_SIZES (default "10000 100000 1000000", + 10000000 with
# BIG=1), SVGD_N (default 5000), FULL (1: auto's full grid), AUTO_ARGS (bench-auto-choice.py's
# arguments, replacing the default grid), FORMULA_N (default 100000), FORMULA_LIMIT (1.2),
# PEERS (default ../shared/peers), PYTHON (default /tmp/peers-venv/bin/python: the peers' venv,
# needed by mesh and svgd, which are skipped without it), HOST_PYTHON (python3 with numpy, for
# the other stages; default PYTHON when it exists, else python3), KEOPS_CACHE_FOLDER, OUT
# (default /tmp/wgf-bench-performance: every stage's files and log, replaced at each run).
# The machine is shared: compare ratios from one sitting, and read the load averages.
# Exit status: 0 when every stage measured (goals met or not), 1 when a stage failed, 64 for an
# unknown stage.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
QUICK="${QUICK:-0}"
STAGES="${STAGES:-mesh swarm svgd auto formula}"
PEERS="${PEERS:-../shared/peers}"
PYTHON="${PYTHON:-/tmp/peers-venv/bin/python}"
if [[ -z "${HOST_PYTHON:-}" ]]; then
    if [[ -x "$PYTHON" ]]; then HOST_PYTHON="$PYTHON"; else HOST_PYTHON=python3; fi
fi
OUT="${OUT:-/tmp/wgf-bench-performance}"
export KEOPS_CACHE_FOLDER="${KEOPS_CACHE_FOLDER:-$OUT/keops}"
if [[ "$QUICK" == 1 ]]; then
    SIZES="${SIZES:-1000 4000}"; REPS="${REPS:-3}"; SWARM_SIZES="${SWARM_SIZES:-1000 10000}"
    SVGD_N="${SVGD_N:-1000}"; FORMULA_N="${FORMULA_N:-10000}"
    default_auto="--kernels gaussian:sigma=0.5 --dims 2 --sizes 1000 --tolerances 1e-6 --repeat 1"
else
    SIZES="${SIZES:-10000 100000 1000000}"; REPS="${REPS:-5}"
    SWARM_SIZES="${SWARM_SIZES:-10000 100000 1000000}"; [[ "${BIG:-0}" == 1 ]] && SWARM_SIZES="$SWARM_SIZES 10000000"
    SVGD_N="${SVGD_N:-5000}"; FORMULA_N="${FORMULA_N:-100000}"
    default_auto="--sizes 1000,4000"; [[ "${FULL:-0}" == 1 ]] && default_auto=""
fi
TOLERANCES="${TOLERANCES:-1e-3 1e-6 1e-9}"
AUTO_ARGS="${AUTO_ARGS-$default_auto}"
FORMULA_LIMIT="${FORMULA_LIMIT:-1.2}"
W=.build/release/wgf

for stage in $STAGES; do
    case "$stage" in
        mesh|swarm|svgd|auto|formula) ;;
        *) echo "error: unknown stage '$stage' (STAGES: any of mesh swarm svgd auto formula)" >&2; exit 64 ;;
    esac
done
mkdir -p "$OUT"
"$HOST_PYTHON" -c 'import numpy' 2>/dev/null \
    || { echo "error: $HOST_PYTHON lacks numpy (set HOST_PYTHON, or pip install numpy)" >&2; exit 1; }
have_peers=1
if [[ ! -x "$PYTHON" ]] || ! "$PYTHON" -c 'import numpy, scipy, finufft' 2>/dev/null; then
    have_peers=0
    echo "note: $PYTHON (numpy, scipy, finufft) not found: the mesh and svgd stages are skipped. Create it with" >&2
    echo "      cd $PEERS && python3 -m venv /tmp/peers-venv && /tmp/peers-venv/bin/pip install -r requirements.txt" >&2
    echo "      (see $PEERS/README.md), or set PYTHON." >&2
fi
if (( have_peers )) && [[ " $STAGES " == *" mesh "* && ! -f "$PEERS/kernel_sum.py" ]]; then
    echo "error: $PEERS/kernel_sum.py not found (set PEERS)" >&2; exit 1
fi

echo "== swift build -c release"
swift build -c release >/dev/null
echo "== bench-performance $(git rev-parse --short HEAD 2>/dev/null || echo '?')  $(date -Is)  loadavg $(cut -d' ' -f1-3 /proc/loadavg)  cpus $(nproc)"
echo "   STAGES=\"$STAGES\" QUICK=$QUICK  OUT=$OUT"

SUMMARY="$OUT/summary.rows"; : > "$SUMMARY"   # goal|measured|target|verdict, a line each (stages run in subshells)
stages=()    # stage|start date|start load|end date|end load
begin=""; begin_load=""
stage_begin() {
    begin=$(date -Is); begin_load=$(cut -d' ' -f1-3 /proc/loadavg)
    echo; echo "==== stage $1: $begin  loadavg $begin_load"
}
stage_end() {
    local end end_load; end=$(date -Is); end_load=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "==== stage $1 done: $end  loadavg $end_load"
    stages+=("$1|$begin|$begin_load|$end|$end_load")
}
# verdict VALUE OP LIMIT: "met" or "not met" (OP is <= or >=); "—" when VALUE is not a number.
verdict() {
    "$HOST_PYTHON" -c 'import sys, math
v, op, lim = sys.argv[1], sys.argv[2], float(sys.argv[3])
try: x = float(v)
except ValueError: print("—"); sys.exit()
print("—" if math.isnan(x) else ("met" if (x <= lim if op == "<=" else x >= lim) else "not met"))' "$1" "$2" "$3"
}
add() { echo "$1|$2|$3|$(verdict "$4" "$5" "$6")" >> "$SUMMARY"; }   # goal measured target value op limit
skip() { echo "$1|skipped: $2|$3|—" >> "$SUMMARY"; }

# points N DIR: x, y ~ N(0, I₂), w ~ U(0, 1) (seed N, as compare-kernel-sum-peer.sh) as DIR/{x,y,w}-N.npy,
# the first 2000 targets as DIR/ysub-N.npy.
points() {
    "$HOST_PYTHON" - "$1" "$2" <<'PY'
import sys, numpy as np
n, out = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(n)
x, y, w = rng.normal(size=(n, 2)), rng.normal(size=(n, 2)), rng.uniform(size=n)
for name, a in (("x", x), ("y", y), ("w", w), ("ysub", y[:2000])):
    np.save(f"{out}/{name}-{n}.npy", a)
PY
}
# wsum DIR N KERNEL METHOD TOL TARGETS OUTNAME REPEAT: one `wgf sum` (one thread, gradient) into
# DIR/OUTNAME.npy, its JSON report into DIR/OUTNAME.json.
wsum() {
    "$W" sum --kernel "$3" --sources "$1/x-$2.npy" --weights "$1/w-$2.npy" --targets "$1/$6-$2.npy" \
        --method "$4" --tolerance "$5" --gradient --threads 1 --repeat "$8" --out "$1/$7.npy" 2> "$1/$7.json"
}
json_seconds() { "$HOST_PYTHON" -c 'import json, sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["seconds"])' "$1"; }

stage_mesh() {
    local dir="$OUT/mesh" n tol
    rm -rf "$dir"; mkdir -p "$dir"
    echo "N,tolerance,wgf_s,finufft_s,ratio,wgf_error,finufft_error" > "$dir/mesh.csv"
    printf '%9s %6s %11s %11s %8s %11s %11s\n' N tol "wgf mesh s" "finufft s" ratio "wgf error" "finufft err"
    for n in $SIZES; do
        points "$n" "$dir"
        wsum "$dir" "$n" gaussian:sigma=0.5 direct 1e-6 ysub "direct-$n" 1
        for tol in $TOLERANCES; do
            wsum "$dir" "$n" gaussian:sigma=0.5 mesh "$tol" y "mesh-$n-$tol" "$REPS"
            OMP_NUM_THREADS=1 "$PYTHON" - "$PEERS" "$dir" "$n" "$tol" "$REPS" "$(json_seconds "$dir/mesh-$n-$tol.json")" <<'PY'
import sys
peers, out, n, name, reps, wgf_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
tol = float(name)
sys.argv = [f"{peers}/kernel_sum.py", "--threads", "1"]   # kernel_sum parses its arguments on import
sys.path.insert(0, peers)
import kernel_sum as ks
import numpy as np
x, y, w = (np.load(f"{out}/{a}-{n}.npy") for a in ("x", "y", "w"))
(s, g), med, _, _ = ks.timeit(lambda: ks.nufft_sum(x, y, w, sigma=0.5, eps=tol, nthreads=1), reps)
ref = np.load(f"{out}/direct-{n}.npy"); m = len(ref)
mesh = np.load(f"{out}/mesh-{n}-{name}.npy")
e_wgf = max(ks.rel_err(mesh[:m, 0], mesh[:m, 1:], ref[:, 0], ref[:, 1:]))
e_fin = max(ks.rel_err(s[:m], g[:m], ref[:, 0], ref[:, 1:]))
print(f"{n:>9} {name:>6} {wgf_s:>11.4g} {med:>11.4g} {wgf_s / med:>8.3f} {e_wgf:>11.2e} {e_fin:>11.2e}", flush=True)
with open(f"{out}/mesh.csv", "a") as f:
    f.write(f"{n},{name},{wgf_s:.6g},{med:.6g},{wgf_s / med:.6g},{e_wgf:.3e},{e_fin:.3e}\n")
PY
        done
    done
    local tol limit worst
    for tol in $TOLERANCES; do
        limit=0.7; [[ "$tol" == 1e-6 ]] && limit=0.5
        worst=$("$HOST_PYTHON" - "$dir/mesh.csv" "$tol" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if float(r["tolerance"]) == float(sys.argv[2])]
r = max(rows, key=lambda r: float(r["ratio"]))
print(f'{float(r["ratio"]):.3g} {r["N"]} {float(r["wgf_s"]):.3g} {float(r["finufft_s"]):.3g} {r["wgf_error"]} {r["finufft_error"]}')
PY
)
        read -r ratio wn ws fs we fe <<<"$worst"
        add "mesh / finufft, tol $tol, worst over N = ${SIZES// /,}" \
            "$ratio (N=$wn: ${ws} s / ${fs} s; errors $we / $fe)" "≤ $limit" "$ratio" "<=" "$limit"
    done
}

stage_swarm() {
    local dir="$OUT/swarm"
    rm -rf "$dir"; mkdir -p "$dir"
    if [[ ! -x /usr/bin/time ]]; then
        echo "note: /usr/bin/time missing (apt-get install -y time): no peak memory" >&2
    fi
    local rc=0
    OUT="$dir" PYTHON="$HOST_PYTHON" PARTS=swarm SWARM_SIZES="$SWARM_SIZES" scripts/bench-other-sums.sh || rc=$?
    (( rc == 0 )) || echo "warning: bench-other-sums.sh exited with $rc: the sizes it did not reach are 'not measured'" >&2
    echo
    "$HOST_PYTHON" - "$dir/swarm.csv" "$SWARM_SIZES" > "$dir/goals.txt" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
sizes = [int(float(v)) for v in sys.argv[2].split()]
for state in ("disc", "blob"):   # the goal sizes asked for but not reached
    have = {int(r["N"]) for r in rows if r["state"] == state}
    for n, lim in ((10**6, 1), (10**7, 12)):
        if n in sizes and n not in have:
            print(f"swarm step at 1e{len(str(n)) - 1}, {state}|not measured (run failed)|≤ {lim} s|nan|<=|{lim}")
print(f"{'state':>5} {'N':>9} {'median s/step':>13} {'mean s/step':>11} {'µs/particle':>11} {'vs smallest':>11} {'peak GB':>8}", file=sys.stderr)
for state in ("disc", "blob"):
    rs = sorted((r for r in rows if r["state"] == state), key=lambda r: int(r["N"]))
    if not rs:
        continue
    base = float(rs[0]["us_per_particle"])
    for r in rs:
        n, rel = int(r["N"]), float(r["us_per_particle"]) / base
        gb = r["max_rss_gb"] and f'{float(r["max_rss_gb"]):.2f}'
        print(f'{state:>5} {n:>9} {float(r["later_median_s"]):>13.4g} {float(r["stepping_mean_s"]):>11.4g} '
              f'{float(r["us_per_particle"]):>11.3f} {rel:>11.2f} {gb or "—":>8}', file=sys.stderr)
        if n == 10**6:
            print(f"swarm step at 1e6, {state}|{float(r['later_median_s']):.3g} s|≤ 1 s|{r['later_median_s']}|<=|1")
        if n == 10**7:
            print(f"swarm step at 1e7, {state}|{float(r['later_median_s']):.3g} s|≤ 12 s|{r['later_median_s']}|<=|12")
            print(f"swarm peak memory at 1e7, {state}|{gb or '—'} GB|≤ 12 GB|{r['max_rss_gb'] or 'nan'}|<=|12")
    worst = max(rs[1:] or rs, key=lambda r: float(r["us_per_particle"]))
    rel = float(worst["us_per_particle"]) / base
    print(f"swarm µs/particle vs N={rs[0]['N']}, {state}|{rel:.2f}× (worst N={worst['N']})|≤ 1.5×|{rel}|<=|1.5")
PY
    local goal measured target value op limit
    while IFS='|' read -r goal measured target value op limit; do
        add "$goal" "$measured" "$target" "$value" "$op" "$limit"
    done < "$dir/goals.txt"
}

stage_svgd() {
    local dir="$OUT/svgd" ratio
    rm -rf "$dir"
    local iters=(); [[ "$QUICK" == 1 ]] && iters=(ITERS_SMALL=20 ITERS_LARGE=5)
    env "${iters[@]}" PYTHON="$PYTHON" PEERS="$PEERS" SUMMATION=auto SIZES="$SVGD_N" TMPDIR_CMP="$dir" \
        scripts/compare-svgd-peer.sh 2>&1 | tee "$OUT/svgd.log"
    ratio=$(awk -v n="$SVGD_N" '/ref\/wgf/ { table = 1; next } table && $1 == n && NF == 6 { r = $6 } END { print r }' "$OUT/svgd.log")
    add "SVGD step, N=$SVGD_N, auto, vs reference (numpy)" "${ratio:-?}× faster" "≥ 100×" "${ratio:-nan}" ">=" 100
}

stage_auto() {
    local rc=0 worst
    # shellcheck disable=SC2086  # AUTO_ARGS is a list of arguments
    "$HOST_PYTHON" scripts/bench-auto-choice.py --wgf "$W" $AUTO_ARGS | tee "$OUT/auto.log" || rc=$?
    worst=$(sed -n 's/^# worst auto\/best: \([0-9.]*\).*/\1/p' "$OUT/auto.log")
    (( rc <= 1 )) || echo "warning: bench-auto-choice.py exited with $rc" >&2
    local grid="custom grid"
    [[ "$AUTO_ARGS" == "$default_auto" ]] && grid="quick grid"; [[ -z "$AUTO_ARGS" ]] && grid="full grid"
    add "auto / fastest engine, worst ($grid)" "${worst:-?}" "≤ 1.3" "${worst:-nan}" "<=" 1.3
}

stage_formula() {
    local dir="$OUT/formula" n="$FORMULA_N"
    rm -rf "$dir"; mkdir -p "$dir"
    points "$n" "$dir"
    wsum "$dir" "$n" gaussian:sigma=0.5 direct 1e-6 ysub direct 1
    wsum "$dir" "$n" gaussian:sigma=0.5 mesh 1e-6 y builtin "$REPS"
    wsum "$dir" "$n" 'formula:exp(-r^2/(2*0.5^2))' mesh 1e-6 y formula "$REPS"
    "$HOST_PYTHON" - "$dir" "$n" > "$dir/goal.txt" <<'PY'
import json, sys, numpy as np
out, n = sys.argv[1], sys.argv[2]
ref = np.load(f"{out}/direct.npy"); m = len(ref)
def err(name):   # max(value, gradient) relative error, as kernel_sum.rel_err
    a = np.load(f"{out}/{name}.npy")[:m]
    ev = np.abs(a[:, 0] - ref[:, 0]).max() / np.abs(ref[:, 0]).max()
    eg = np.linalg.norm(a[:, 1:] - ref[:, 1:], axis=1).max() / np.linalg.norm(ref[:, 1:], axis=1).max()
    return max(ev, eg)
info = {k: json.loads(open(f"{out}/{k}.json").read().strip().splitlines()[-1]) for k in ("builtin", "formula")}
t = {k: v["seconds"] for k, v in info.items()}
for k in ("builtin", "formula"):
    print(f"{k:>8}: {t[k]:.4g} s, error {err(k):.2e}, parameters {info[k].get('parameters')}", file=sys.stderr)
r = t["formula"] / t["builtin"]
print(f"formula / built-in Gaussian, mesh 1e-6, N={n}|{r:.3g} ({t['formula']:.3g} s / {t['builtin']:.3g} s; "
      f"errors {err('formula'):.1e} / {err('builtin'):.1e})|≈ 1|{r}")
PY
    local goal measured target value
    IFS='|' read -r goal measured target value < "$dir/goal.txt"
    add "$goal" "$measured" "$target (≤ $FORMULA_LIMIT)" "$value" "<=" "$FORMULA_LIMIT"
}

failed_stages=()
for stage in $STAGES; do
    case "$stage" in
        mesh|svgd)
            if (( ! have_peers )); then
                echo; echo "==== stage $stage: skipped ($PYTHON missing; see $PEERS/README.md)"
                skip "$stage" "no $PYTHON" "see $PEERS/README.md"
                continue
            fi ;;
    esac
    stage_begin "$stage"
    # a stage that fails (a run refused for memory, a peer that breaks) is reported, and the others run
    set +e; ( set -e; "stage_$stage" ); rc=$?; set -e
    (( rc == 0 )) || { echo "==== stage $stage FAILED (exit $rc)"; echo "stage $stage|failed (exit $rc): see above|—|not met" >> "$SUMMARY"; failed_stages+=("$stage"); }
    stage_end "$stage"
done

echo
echo "==== summary  $(date -Is)  loadavg $(cut -d' ' -f1-3 /proc/loadavg)  (QUICK=$QUICK)"
{
    echo "goal|measured|target|verdict"
    cat "$SUMMARY"
} | column -t -s '|'
echo
{
    echo "stage|start|load at start|end|load at end"
    printf '%s\n' "${stages[@]}"
} | column -t -s '|'
# A goal not met is a measurement; a stage that did not measure is a failure of the command.
if (( ${#failed_stages[@]} > 0 )); then
    echo "bench-performance: stages that failed: ${failed_stages[*]}" >&2
    exit 1
fi
