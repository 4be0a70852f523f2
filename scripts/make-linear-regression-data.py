#!/usr/bin/env python3
"""Writes scenarios/data/linear-regression.csv (synthetic, seed 7: 200 rows x1 = u, x2 = t with
u ~ U(−2, 2), t = 1.5u − 0.5 + N(0, 0.5²)) and prints the conjugate posterior of (slope,
intercept) under the prior N(0, 10²I) and the known noise 0.5: mean and covariance, the values
scenarios/svgd-linear-regression.toml states."""
from pathlib import Path

import numpy as np

rng = np.random.default_rng(7)
u = rng.uniform(-2, 2, 200)
t = 1.5 * u - 0.5 + 0.5 * rng.normal(size=200)
out = Path(__file__).resolve().parent.parent / "scenarios" / "data" / "linear-regression.csv"
np.savetxt(out, np.c_[u, t], delimiter=",", header="x1,x2", comments="", fmt="%.17g")
# Read back what was written, and solve the conjugate posterior from it.
data = np.loadtxt(out, delimiter=",", skiprows=1)
A = np.c_[data[:, 0], np.ones(len(data))]
precision = A.T @ A / 0.25 + np.eye(2) / 100
cov = np.linalg.inv(precision)
mean = cov @ (A.T @ data[:, 1] / 0.25)
print("mean", repr(mean.tolist()))
print("covariance", repr(cov.tolist()))
