#!/bin/bash
# scripts/output-digest.sh WGF SCENARIO_DIR OUT: runs every scenario of SCENARIO_DIR with the wgf binary
# WGF into OUT (csv and h5md trajectories) and prints the SHA-256 of each output (metrics.csv
# without its wall column, trajectory.h5 without observables/wall): two builds whose digests
# are equal wrote the same bytes. For refactors that must not change results (issue 14).
wgf=$1; dir=$2; out=$3; mkdir -p $out
for f in $dir/*.toml; do n=$(basename $f .toml)
  for fmt in csv h5md; do
    r=$out/$n-$fmt; rm -rf $r
    $wgf run $f --out $r --quiet --threads 2 --set record.format=$fmt > /dev/null 2>&1 || echo "$n $fmt FAILED"
    for g in trajectory.csv metrics.csv; do [ -f $r/$g ] || continue
      if [ $g = metrics.csv ]; then cut -d, -f1,2,4- $r/$g | sha256sum | sed "s|-|$n/$fmt/$g|"; else sha256sum $r/$g | sed "s|$r/||;s|  |  $n/$fmt/|"; fi
    done
    [ -f $r/trajectory.h5 ] && python3 -c "
import h5py,hashlib,sys
h=hashlib.sha256()
def v(name,o):
    if isinstance(o,h5py.Dataset) and not name.startswith('observables/wall'): h.update(name.encode()); h.update(o[()].tobytes())
h5py.File('$r/trajectory.h5','r').visititems(v); print(h.hexdigest(),' $n/$fmt/trajectory.h5')"
  done
done
