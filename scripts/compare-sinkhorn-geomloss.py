#!/usr/bin/env python3
"""wgf's `sinkhorn` against GeomLoss on the same points: the debiased Sinkhorn divergence
S_ε for the cost |x − y|², from `geomloss.ot.solve_sample(X, Y, reg=ε, debias=True,
max_iter=K)` (GeomLoss's cost is |x − y|² there, with ε = reg) for growing K, beside
`wgf distance --metric sinkhorn --epsilon ε`. GeomLoss runs a fixed number of annealed
iterations (no stopping test); its value rises towards wgf's, converged one as K grows.

    python3 -m pip install torch geomloss numpy     # PyTorch: a large download (CPU is enough)
    python3 scripts/compare-sinkhorn-geomloss.py [--wgf .build/release/wgf] [--iterations 1000,10000,50000]

Prints, per case, GeomLoss's value at each K, wgf's, their relative difference and seconds.
"""

import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import torch
from geomloss import ot


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wgf", default=".build/release/wgf")
    parser.add_argument("--iterations", default="1000,10000,50000")
    args = parser.parse_args()
    counts = [int(k) for k in args.iterations.split(",")]
    cases = [(100, 2, 3), (300, 2, 3), (300, 1, 4), (200, 3, 5)]
    print("x ~ N(0, I), y ~ N(0.4, 1.3² I), N = M, ε = 0.1 × y's mean variance per coordinate")
    print(f"{'N':>5} {'d':>2} {'K':>6} {'GeomLoss':>20} {'wgf':>20} {'relative':>9} {'GeomLoss s':>10} {'wgf s':>7}")
    with tempfile.TemporaryDirectory() as scratch:
        for n, d, seed in cases:
            rng = np.random.default_rng(seed)
            x = rng.standard_normal((n, d))
            y = 0.4 + 1.3 * rng.standard_normal((n, d))
            eps = float(0.1 * np.mean(np.var(y, axis=0)))
            px, py = os.path.join(scratch, "x.npy"), os.path.join(scratch, "y.npy")
            np.save(px, x)
            np.save(py, y)
            run = subprocess.run(
                [args.wgf, "distance", "--metric", "sinkhorn", "--x", px, "--y", py, f"--epsilon={eps!r}"],
                capture_output=True, text=True, check=True)
            report = json.loads(run.stdout)
            ours = report["value"]
            tx = torch.tensor(x, dtype=torch.float64)
            ty = torch.tensor(y, dtype=torch.float64)
            for k in counts:
                start = time.perf_counter()
                theirs = float(ot.solve_sample(tx, ty, reg=eps, debias=True, max_iter=k).value)
                seconds = time.perf_counter() - start
                print(f"{n:5} {d:2} {k:6} {theirs:20.16f} {ours:20.16f} {abs(theirs - ours) / ours:9.2e} "
                      f"{seconds:10.1f} {report['seconds']:7.2f}", flush=True)


if __name__ == "__main__":
    main()
