#!/usr/bin/env python3
"""Seconds of each distance metric at N = M = 10³, 10⁴, 10⁵ (2-D Gaussian samples, N(0, I)
against N(0.5·1, I)), from `wgf distance`'s own report (the computation alone, threads: all
cores), with the load average: the "costs" table of docs/performance.md.

    python3 scripts/bench-metric-costs.py [--wgf .build/release/wgf] [--sizes 1000,10000,100000]
        [--timeout 600] [--metrics sinkhorn,w2] [--epsilon E]

A size a metric refuses (w2: N·M ≤ 10⁸; sinkhorn: N² + NM + M² ≤ 3·10⁸) prints "refused";
one that runs past --timeout prints "> timeout". sinkhorn's cells add (Sinkhorn iterations +
Newton steps).
"""

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

METRICS = [
    ("w2", []),
    ("sliced-w2", ["--directions", "100"]),
    ("bures-w2", []),
    ("sinkhorn", []),
    ("energy-distance", []),
    ("kl-knn", []),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--wgf", default=str(Path(__file__).resolve().parents[1] / ".build" / "release" / "wgf"))
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--epsilon", type=float, help="sinkhorn's ε (default: the metric's, 0.1 × y's variance)")
    parser.add_argument("--metrics", default=",".join(name for name, _ in METRICS), help="a comma-separated subset")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    chosen = args.metrics.split(",")
    unknown = set(chosen) - {name for name, _ in METRICS}
    if unknown:
        parser.error(f"--metrics: unknown {', '.join(sorted(unknown))}")
    rng = np.random.default_rng(17)
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    print(f"{'metric':<16}" + "".join(f"{n:>20}" for n in sizes))
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        for n in sizes:
            np.save(folder / f"x{n}.npy", rng.normal(size=(n, 2)))
            np.save(folder / f"y{n}.npy", rng.normal(size=(n, 2)) + 0.5)
        for metric, extra in (m for m in METRICS if m[0] in chosen):
            cells = []
            for n in sizes:
                try:
                    out = subprocess.run(
                        [args.wgf, "distance", "--metric", metric, "--x", folder / f"x{n}.npy",
                         "--y", folder / f"y{n}.npy", *extra,
                         *([f"--epsilon={args.epsilon!r}"] if metric == "sinkhorn" and args.epsilon else [])],
                        capture_output=True, text=True, timeout=args.timeout)
                except subprocess.TimeoutExpired:
                    cells.append(f"> {args.timeout:g} s")
                    continue
                if out.returncode == 3:
                    cells.append("refused")
                elif out.returncode != 0:
                    cells.append(f"exit {out.returncode}")
                else:
                    report = json.loads(out.stdout)
                    work = f" ({report['iterations']}+{report['newton-steps']})" if "iterations" in report else ""
                    cells.append(f"{report['seconds']:.3g} s{work}")
            print(f"{metric:<16}" + "".join(f"{c:>20}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
