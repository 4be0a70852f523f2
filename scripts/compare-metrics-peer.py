#!/usr/bin/env python3
"""wgf's distance metrics against POT on the same points: prints each pair of values, their
relative difference and the seconds of each (wgf's: the computation alone, from `wgf distance`;
POT's: its call, cost matrix included).

    python3 -m pip install pot numpy
    python3 scripts/compare-metrics-peer.py [--wgf .build/release/wgf] [--sizes 300,1000,3000]

- w2: wgf's exact solver (network simplex) against ot.emd2 on the squared Euclidean cost,
  weighted particles against uniform samples, several sizes and dimensions;
- sliced-w2: against ot.sliced_wasserstein_distance with the same projections (passed to wgf
  as --projections, POT's d × P layout);
- bures-w2: against ot.gaussian.bures_wasserstein_distance on the weighted moments of each set
  (the moments of the empirical measures: Σ w (x − m)(x − m)ᵀ / Σ w);
- energy-distance: against a numpy double loop (2E|X−Y| − E|X−X'| − E|Y−Y'|; GeomLoss's
  "energy" loss is half of it);
- kl-knn: against the Wang–Kulkarni–Verdú estimator written with scipy's cKDTree;
- sinkhorn (N ≤ 1000): against the debiased divergence from a log-domain Sinkhorn written here
  with scipy's logsumexp (alternating updates for OT_ε(α, β), averaged symmetric ones for
  OT_ε(α, α), to a fixed point), and, printed as "POT", from ot.solve_sample(reg_type="KL")'s
  entropic values at N ≤ 300 (its alternating iteration oscillates on the symmetric problems, stops at
  its tolerance and takes minutes: the last digits differ). GeomLoss's SamplesLoss("sinkhorn", p=2, blur=σ) is
  half of wgf's sinkhorn at ε = 2σ² when run to convergence.
Exit status 1 when a difference exceeds its bound (w2 1e-10, sliced-w2 1e-12, bures-w2 1e-10,
energy-distance 1e-12, kl-knn 1e-12, sinkhorn 1e-8 against the reference, relative).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import ot
from scipy.spatial import cKDTree
from scipy.special import logsumexp


def wgf_distance(exe, folder, metric, x, y, a, b, extra=()):
    np.save(folder / "x.npy", x)
    np.save(folder / "y.npy", y)
    np.save(folder / "a.npy", a)
    np.save(folder / "b.npy", b)
    out = subprocess.run(
        [exe, "distance", "--metric", metric, "--x", folder / "x.npy", "--y", folder / "y.npy",
         "--x-weights", folder / "a.npy", "--y-weights", folder / "b.npy", *extra],
        capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    return report["value"], report["seconds"]


def timed(f):
    t = time.perf_counter()
    value = f()
    return value, time.perf_counter() - t


def entropic_ot(x, a, y, b, eps):
    """OT_ε(α, β) = ⟨a, f⟩ + ⟨b, g⟩ at the fixed point of the log-domain soft-min updates."""
    a, b = a / a.sum(), b / b.sum()
    cost = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    la, lb = np.log(a), np.log(b)
    symmetric = x is y
    f, g = np.zeros(len(x)), np.zeros(len(y))
    for _ in range(200000):
        f_new = -eps * logsumexp(lb[None, :] + (g[None, :] - cost) / eps, axis=1)
        if symmetric:
            f_new = 0.5 * (f + f_new)
            g_new = f_new
        else:
            g_new = -eps * logsumexp(la[:, None] + (f_new[:, None] - cost) / eps, axis=0)
        change = max(np.abs(f_new - f).max(), np.abs(g_new - g).max())
        f, g = f_new, g_new
        if change < 1e-14 * cost.max():
            break
    return a @ f + b @ g


def sinkhorn_divergence(x, a, y, b, eps):
    return entropic_ot(x, a, y, b, eps) - 0.5 * entropic_ot(x, a, x, a, eps) - 0.5 * entropic_ot(y, b, y, b, eps)


def pot_sinkhorn_divergence(x, a, y, b, eps):
    def value(p, wp, q, wq):
        return float(ot.solve_sample(p, q, wp / wp.sum(), wq / wq.sum(), metric="sqeuclidean", reg=eps,
                                     reg_type="KL", max_iter=100000, tol=1e-13).value)
    return value(x, a, y, b) - 0.5 * value(x, a, x, a) - 0.5 * value(y, b, y, b)


def weighted_moments(x, w):
    w = w / w.sum()
    m = w @ x
    c = (x - m).T @ ((x - m) * w[:, None])
    return m, c


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--wgf", default=str(Path(__file__).resolve().parents[1] / ".build" / "release" / "wgf"))
    parser.add_argument("--sizes", default="300,1000,3000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(2026)
    bounds = {"w2": 1e-10, "sliced-w2": 1e-12, "bures-w2": 1e-10, "energy-distance": 1e-12, "kl-knn": 1e-12,
              "sinkhorn": 1e-8, "sinkhorn (POT)": 1e-6}
    failed = False
    print(f"{'metric':<16}{'N':>6}{'M':>6}{'d':>3}  {'wgf':>22}  {'POT / numpy':>22}  {'rel. diff':>9}  {'wgf s':>8}  {'peer s':>8}")
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        for n in sizes:
            for dim in (1, 2, 5):
                m = max(2, (3 * n) // 4)
                x = rng.normal(size=(n, dim)) @ rng.normal(size=(dim, dim)) * 0.7
                y = rng.standard_t(5, size=(m, dim)) + 0.3
                a = rng.uniform(0.2, 1.0, n)
                b = np.ones(m)
                rows = []
                mine, t_mine = wgf_distance(args.wgf, folder, "w2", x, y, a, b)
                peer, t_peer = timed(lambda: np.sqrt(ot.emd2(a / a.sum(), b / b.sum(), ot.dist(x, y), numItermax=10**9)))
                rows.append(("w2", mine, peer, t_mine, t_peer))
                projections = rng.normal(size=(dim, 64))
                projections /= np.linalg.norm(projections, axis=0, keepdims=True)
                np.save(folder / "p.npy", projections)
                mine, t_mine = wgf_distance(args.wgf, folder, "sliced-w2", x, y, a, b,
                                            extra=("--projections", folder / "p.npy"))
                peer, t_peer = timed(lambda: ot.sliced_wasserstein_distance(
                    x, y, a / a.sum(), b / b.sum(), projections=projections))
                rows.append(("sliced-w2", mine, peer, t_mine, t_peer))
                mine, t_mine = wgf_distance(args.wgf, folder, "bures-w2", x, y, a, b)
                (ms, cs), (mt, ct) = weighted_moments(x, a), weighted_moments(y, b)
                peer, t_peer = timed(lambda: float(ot.gaussian.bures_wasserstein_distance(ms, mt, cs, ct)))
                rows.append(("bures-w2", mine, peer, t_mine, t_peer))
                if n <= 3000:
                    mine, t_mine = wgf_distance(args.wgf, folder, "energy-distance", x, y, a, b)
                    wa, wb = a / a.sum(), b / b.sum()

                    def energy():
                        def mean_distance(p, wp, q, wq):
                            total = 0.0
                            for k in range(0, len(p), 256):
                                dist = np.sqrt(((p[k:k + 256, None, :] - q[None, :, :]) ** 2).sum(-1))
                                total += wp[k:k + 256] @ dist @ wq
                            return total
                        return 2 * mean_distance(x, wa, y, wb) - mean_distance(x, wa, x, wa) - mean_distance(y, wb, y, wb)

                    peer, t_peer = timed(energy)
                    rows.append(("energy-distance", mine, peer, t_mine, t_peer))
                mine, t_mine = wgf_distance(args.wgf, folder, "kl-knn", x, y, a, b, extra=("--neighbours", "5"))

                def knn_kl(k=5):
                    rho = cKDTree(x).query(x, k + 1)[0][:, k]
                    nu = cKDTree(y).query(x, k)[0][:, k - 1]
                    return dim * np.mean(np.log(nu / rho)) + np.log(len(y) / (len(x) - 1))

                peer, t_peer = timed(knn_kl)
                rows.append(("kl-knn", mine, peer, t_mine, t_peer))
                if n <= 1000:
                    eps = 0.1 * y.var(axis=0).mean()
                    mine, t_mine = wgf_distance(args.wgf, folder, "sinkhorn", x, y, a, b, extra=("--epsilon", str(float(eps))))
                    peer, t_peer = timed(lambda: sinkhorn_divergence(x, a, y, b, eps))
                    rows.append(("sinkhorn", mine, peer, t_mine, t_peer))
                if n <= 300:  # POT's iteration takes minutes (388 s at N = 300, d = 1)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        peer, t_peer = timed(lambda: pot_sinkhorn_divergence(x, a, y, b, eps))
                    rows.append(("sinkhorn (POT)", mine, peer, t_mine, t_peer))
                for metric, mine, peer, t_mine, t_peer in rows:
                    diff = abs(mine - peer) / max(abs(peer), 1e-300)
                    bad = diff > bounds[metric]
                    failed |= bad
                    print(f"{metric:<16}{n:>6}{m:>6}{dim:>3}  {mine:>22.17g}  {peer:>22.17g}  {diff:>9.1e}  "
                          f"{t_mine:>8.3f}  {t_peer:>8.3f}{'  EXCEEDS ' + str(bounds[metric]) if bad else ''}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
