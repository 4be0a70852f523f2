#!/bin/bash
# scripts/scaling.sh [WGF] [N] [STEPS] [CASES]: strong scaling of one step, 1 process against K = 2
# MPI ranks on this machine, for a 2-D swarm (Langevin, quadratic + log interaction, mesh) and a
# 2-D SVGD (Gaussian kernel, mesh), N particles each (default 10^6), recording one O(N) metric. Prints the stepping seconds
# per step (run.json timings, records and metrics excluded) as the median of 3 runs, for
#   1 rank × 1 thread, 1 rank × 2 threads, 2 ranks × 1 thread.
# docs/scaling.md quotes its output; the machine is shared: compare ratios from one sitting.
wgf=${1:-.build/release/wgf}; n=${2:-1000000}; steps=${3:-3}; cases=${4:-"swarm svgd"}
out=$(mktemp -d); trap "rm -rf $out" EXIT
mpi="mpirun --allow-run-as-root --oversubscribe --mca btl self,vader"
common="--steps $steps --quiet --set population.count=$n --set record-every=1000000 --set record.trajectory=false"
per_step() { python3 -c "import json,sys;d=json.load(open('$1/run.json'));print(d['seconds']['stepping']/$steps)"; }
median() { python3 -c "import sys,statistics;print('%.4g'%statistics.median(map(float,sys.argv[1:])))" "$@"; }
for case in "swarm scenarios/swarm-attraction-repulsion-2d.toml --set flow.summation=mesh --set record.metrics=[\"variance\"] --set expect=[]" \
            "svgd scenarios/svgd-gaussian-2d.toml --set flow.summation=mesh --set record.metrics=[\"mean-error\"] --set expect=[]"; do
  set -- $case; name=$1; scenario=$2; shift 2; extra="$*"
  [[ " $cases " == *" $name "* ]] || continue
  for setup in "1x1:--threads 1" "1x2:--threads 2" "2x1:--threads 1:2"; do
    IFS=: read label threads ranks <<< "$setup"
    times=()
    for rep in 1 2 3; do
      d=$out/$name-$label-$rep
      if [ -n "$ranks" ]; then $mpi -np $ranks $wgf run $scenario --out $d $threads $common $extra > /dev/null
      else $wgf run $scenario --out $d $threads $common $extra > /dev/null; fi || { echo "$name $label failed"; exit 1; }
      times+=($(per_step $d))
    done
    echo "$name N=$n $label: $(median ${times[@]}) s/step"
  done
done
