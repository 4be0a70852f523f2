#!/usr/bin/env python3
"""Why `sinkhorn` does not run Sinkhorn's soft-min on the kernel-sum mesh: the numbers.

The soft-min f_i = −ε log Σ_j b_j exp((g_j − |x_i − y_j|²)/ε) is a Gaussian kernel sum with
weights w_j = b_j exp(g_j/ε), which a mesh (or any fast Gauss transform with one scale per sum)
computes to an absolute error of about τ Σ_j w_j, τ ≥ 1e-15. Row i is then known to a relative
error τ Σ_j w_j / S_i, S_i its sum. This script solves OT_ε to convergence (log-domain, numpy)
on point sets a run meets, and prints, at the converged potentials, the spread of the weights,
the ratio Σ w / min S and the fraction of rows that a mesh at τ = 1e-15 cannot give to 1e-8
(S_i < 1e-7 Σ w) or even to 1e-2 (S_i < 1e-13 Σ w). The last column is what truncation (the
sparse multiscale schemes of Schmitzer 2019 and GeomLoss) would keep: the fraction of pairs
whose plan entry exp((f_i + g_j − |x_i − y_j|²)/ε) is above e^−36 (double precision), at the
converged potentials.

    python3 scripts/sinkhorn-mesh-feasibility.py [--n 2000] [--seed 1]

ε is the metric's default, 0.1 × the target sample's mean variance per coordinate.
"""

import argparse

import numpy as np


def logsumexp(a, axis):
    m = a.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def potentials(x, y, eps, iterations):
    """OT_ε(x, y) potentials by ε-scaling (factors of 4 from the squared diameter) and
    alternating log-domain updates at ε."""
    c = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    la = np.full(len(x), -np.log(len(x)))
    lb = np.full(len(y), -np.log(len(y)))
    f, g = np.zeros(len(x)), np.zeros(len(y))
    schedule = []
    e = c.max()
    while e > eps:
        schedule.append(e)
        e /= 4
    for e in schedule + [eps] * iterations:
        f = -e * logsumexp(lb[None, :] + (g[None, :] - c) / e, axis=1)
        g = -e * logsumexp(la[:, None] + (f[:, None] - c) / e, axis=0)
    return f, g, c


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=400)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    n = args.n

    def gaussian(mean=(0, 0), std=1.0):
        return np.asarray(mean) + std * rng.standard_normal((n, 2))

    def mixture():
        centres = np.array([[-2, 0], [2, 0], [0, 2.5]])
        return centres[rng.integers(0, 3, n)] + 0.5 * rng.standard_normal((n, 2))

    cases = [
        ("two samples of N(0, I)", gaussian(), gaussian()),
        ("two samples of a 3-mode mixture", mixture(), mixture()),
        ("N((3, 3), 0.25 I) against N(0, I)", gaussian((3, 3), 0.5), gaussian()),
        ("N(0, I) against the mixture", gaussian(), mixture()),
        ("collapsed: N(0, 0.05² I) against N(0, I)", gaussian(std=0.05), gaussian()),
    ]
    print(f"n = {n} points each, d = 2, ε = 0.1 × the target's mean variance per coordinate")
    print(f"{'case':44} {'ε':>6} {'log10 w range':>14} {'log10 Σw/min S':>15} {'S<1e-7Σw':>9} {'S<1e-13Σw':>10} {'kept pairs':>10}")
    for name, x, y in cases:
        eps = 0.1 * np.mean(np.var(y, axis=0))
        f, g, c = potentials(x, y, eps, args.iterations)
        # In logs (the weights span more than a double's range): log w_j, log S_i, log Σ w.
        log_w = (g - g.max()) / eps - np.log(len(y))
        log_s = logsumexp(log_w[None, :] - c / eps, axis=1)
        log_total = logsumexp(log_w, axis=0)
        spread = (log_w.max() - log_w.min()) / np.log(10)
        worst = (log_total - log_s.min()) / np.log(10)
        r = (log_s - log_total) / np.log(10)
        kept = np.mean((f[:, None] + g[None, :] - c) / eps > -36)
        print(f"{name:44} {eps:6.3f} {spread:14.1f} {worst:15.1f} {np.mean(r < -7):9.3f} {np.mean(r < -13):10.3f} {kept:10.3f}")


if __name__ == "__main__":
    main()
