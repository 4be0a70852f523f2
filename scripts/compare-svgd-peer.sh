#!/usr/bin/env bash
# Time wgf's SVGD against the numpy re-implementation of Liu & Wang's reference code
# (../shared/peers/svgd_reference.py) in one sitting, one thread each, same problem:
# N((1, −1), [[1, .5], [.5, 2]]) from N(0, I), median bandwidth, AdaGrad, step 1e-2, and exact
# (direct) kernel sums on both sides (`auto` would pick the mesh at N = 5000).
#
#   scripts/compare-svgd-peer.sh
#   SUMMATION=auto SIZES=5000 scripts/compare-svgd-peer.sh   # wgf's default engine choice
#
# Environment: SUMMATION (default direct), PEERS (default ../shared/peers), PYTHON (default /tmp/peers-venv/bin/python,
# a venv with ../shared/peers/requirements.txt), SIZES (default "100 1000 5000"),
# ITERS_SMALL (default 200, for N ≤ 1000), ITERS_LARGE (default 20, for larger N),
# TMPDIR_CMP (default /tmp/wgf-compare-svgd: CSVs and run directories).
#
# Reference s/iter is the script's median and mean over its iterations; wgf s/step is
# run.json seconds.stepping / steps-taken (a mean). The ratio is reference mean / wgf.
# Sizes are interleaved (reference N, then wgf N) so that load drifts hit both alike.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PEERS="${PEERS:-../shared/peers}"
PYTHON="${PYTHON:-/tmp/peers-venv/bin/python}"
SIZES="${SIZES:-100 1000 5000}"
ITERS_SMALL="${ITERS_SMALL:-200}"
ITERS_LARGE="${ITERS_LARGE:-20}"
OUT="${TMPDIR_CMP:-/tmp/wgf-compare-svgd}"
SUMMATION="${SUMMATION:-direct}"   # wgf's flow.summation: direct (as the reference) or auto
REF="$PEERS/svgd_reference.py"

[[ -f "$REF" ]] || { echo "error: $REF not found (set PEERS)" >&2; exit 1; }
[[ -x "$PYTHON" ]] || { echo "error: $PYTHON not found (set PYTHON; see $PEERS/README.md)" >&2; exit 1; }
"$PYTHON" -c 'import numpy, scipy' 2>/dev/null \
    || { echo "error: $PYTHON lacks numpy/scipy (pip install -r $PEERS/requirements.txt)" >&2; exit 1; }

echo "== swift build -c release"
swift build -c release
WGF=.build/release/wgf
mkdir -p "$OUT"

# json_get FILE EXPR: evaluates a Python expression over the parsed run.json `j`.
json_get() { "$PYTHON" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# csv_get FILE COLUMN: the column of the CSV's first data row.
csv_get() { "$PYTHON" -c 'import csv, sys; print(next(csv.DictReader(open(sys.argv[1])))[sys.argv[2]])' "$1" "$2"; }

echo "== $(date -Is)  loadavg $(cut -d' ' -f1-3 /proc/loadavg)  cpus $(nproc)"
rows=()
for n in $SIZES; do
    if (( n <= 1000 )); then iters=$ITERS_SMALL; else iters=$ITERS_LARGE; fi
    csv="$OUT/svgd-reference-$n.csv"
    echo "== reference N=$n, $iters iterations"
    "$PYTHON" "$REF" --sizes "$n" --iters "$iters" --threads 1 --no-w2 --out "$csv"
    ref_med=$(csv_get "$csv" median_s_per_iter)
    ref_mean=$(csv_get "$csv" mean_s_per_iter)

    dir="$OUT/wgf-svgd-$n"
    echo "== wgf N=$n, $iters steps, summation $SUMMATION"
    "$WGF" run scenarios/svgd-gaussian-2d.toml --threads 1 --quiet --force \
        --set population.count="$n" --set steps="$iters" \
        --set 'record.metrics=[]' --set record.trajectory=false --set flow.summation="$SUMMATION" --set 'expect=[]' \
        --out "$dir"
    wgf_step=$(json_get "$dir/run.json" 'j["seconds"]["stepping"] / j["steps-taken"]')
    rows+=("$n $iters $ref_med $ref_mean $wgf_step")
done

echo "== wgf quickstart (scenarios/quickstart.toml, --threads 1)"
qdir="$OUT/wgf-quickstart"
"$WGF" run scenarios/quickstart.toml --quiet --force --threads 1 --out "$qdir"
q_rate=$(json_get "$qdir/run.json" 'j["steps-taken"] / j["seconds"]["stepping"]')
q_steps=$(json_get "$qdir/run.json" 'j["steps-taken"]')
q_n=$(json_get "$qdir/run.json" 'j["particles"][0]["count"]')
echo "== done $(date -Is)  loadavg $(cut -d' ' -f1-3 /proc/loadavg)"

echo
printf '%6s %6s %14s %15s %12s %10s\n' N iters "ref s/iter med" "ref s/iter mean" "wgf s/step" "ref/wgf"
for r in "${rows[@]}"; do
    read -r n iters med mean step <<<"$r"
    printf '%6s %6s %14.4g %15.4g %12.4g %10.1f\n' "$n" "$iters" "$med" "$mean" "$step" \
        "$("$PYTHON" -c "print($mean / $step)")"
done
printf '\nquickstart: %s steps, %s particles, %.1f steps/s (stepping only, 1 thread)\n' "$q_steps" "$q_n" "$q_rate"
