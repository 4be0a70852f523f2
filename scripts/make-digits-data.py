#!/usr/bin/env python3
"""Writes scenarios/data/digits-{train,test}.csv from the scikit-learn digits set
(sklearn/datasets/data/digits.csv.gz: 1797 images of 8×8 pixels, intensities 0..16, the last
column the digit). It is a copy of the test part of the UCI "Optical Recognition of Handwritten
Digits" data set (E. Alpaydin & C. Kaynak, 1998; UCI Machine Learning Repository,
https://doi.org/10.24432/C50P49, licence CC BY 4.0).

A seeded split (numpy default_rng(1998)): 300 test rows, 1497 training rows; the label is
dropped; columns x1..x64 the pixels row by row (x1..x8 the top row), intensity / 16 in [0, 1]
(multiples of 1/16, written exactly in at most 6 characters). Usage:
python3 scripts/make-digits-data.py PATH/TO/digits.csv.gz
(e.g. unzip it from a scikit-learn wheel: pip download scikit-learn --no-deps).
"""
import sys
from pathlib import Path

import numpy as np

data = np.loadtxt(sys.argv[1], delimiter=",")
X = data[:, :64] / 16
perm = np.random.default_rng(1998).permutation(len(X))
test, train = perm[:300], perm[300:]
out = Path(__file__).resolve().parent.parent / "scenarios" / "data"
header = ",".join(f"x{k + 1}" for k in range(64))
for name, idx in [("train", train), ("test", test)]:
    np.savetxt(out / f"digits-{name}.csv", X[idx], delimiter=",", header=header, comments="", fmt="%.4g")
