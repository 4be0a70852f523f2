#!/usr/bin/env bash
# Trajectory write speed and file size, trajectory.csv against trajectory.h5 (record.format),
# in one sitting: 2-D overdamped Langevin (scenarios/langevin-ou.toml), 4 steps with a record
# at every step (5 records), N = 1e5 and 1e6 particles, REPS runs of each. Per format and N,
# medians over the runs of: run.json's seconds.recording (the recorder's time: trajectory and
# metrics.csv) per record, the rate of particle data it stands for (N·(d + 1) doubles per
# record: positions and weights), the trajectory file's size, and `wgf export` of the run
# (seconds and peak resident memory, GNU time).
#
#   scripts/bench-trajectory-formats.sh    # OUT (default /tmp/wgf-bench-formats), REPS (3), SIZES ("100000 1000000")
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${OUT:-/tmp/wgf-bench-formats}"
REPS="${REPS:-3}"
SIZES="${SIZES:-100000 1000000}"
mkdir -p "$OUT"
swift build -c release >/dev/null
W=.build/release/wgf
echo "== $(date -Is)  loadavg $(cut -d' ' -f1-3 /proc/loadavg)  $(git rev-parse --short HEAD)"
timer=(); [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f %M -o "$OUT/rss")
rows="$OUT/rows.txt"; : > "$rows"
for n in $SIZES; do
    for format in csv h5md; do
        for rep in $(seq "$REPS"); do
            run="$OUT/run-$n-$format"
            rm -rf "$run"
            $W run scenarios/langevin-ou.toml --out "$run" --steps 4 --set record-every=1 --set population.count="$n" \
                --set 'record.metrics=["cov-error", "mean-error"]' --set 'expect=[]' --set record.format="$format" \
                --threads 2 --quiet >/dev/null
            file="$run/trajectory.csv"; [[ $format == h5md ]] && file="$run/trajectory.h5"
            start=$(date +%s.%N)
            "${timer[@]}" $W export "$run" >/dev/null
            seconds=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(date +%s.%N)")
            rss=$([[ -f "$OUT/rss" ]] && cat "$OUT/rss" || echo nan)
            recording=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['seconds']['recording'])" "$run/run.json")
            echo "$n $format $recording $(stat -c %s "$file") $seconds $rss" >> "$rows"
        done
        rm -rf "$run"
    done
done
python3 - "$rows" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
records, d = 5, 2
print("| N | format | recording s/record | MB/s of particle data | file size | export s | export peak memory |")
print("|---|---|---|---|---|---|---|")
for n in dict.fromkeys(r[0] for r in rows):
    for fmt in ("csv", "h5md"):
        sel = [r for r in rows if r[0] == n and r[1] == fmt]
        rec = st.median(float(r[2]) for r in sel) / records
        size = st.median(int(r[3]) for r in sel)
        exp = st.median(float(r[4]) for r in sel)
        rss = st.median(float(r[5]) for r in sel) / 1e6 if sel[0][5] != "nan" else float("nan")
        mbs = int(n) * (d + 1) * 8 / rec / 1e6
        power = {10 ** k: "10" + "⁰¹²³⁴⁵⁶⁷⁸⁹"[k] for k in range(10)}.get(int(n), n)
        print(f"| {power} | {fmt} | {rec:.3g} | {mbs:.3g} | {size / 1e6:.1f} MB | {exp:.3g} | {rss:.2f} GB |")
print(f"(medians of {len(sel)} runs; {records} records of N particles in 2-D)")
PY
