#!/usr/bin/env python3
"""Writes scenarios/data/breast-cancer-{train,test}.csv from the Breast Cancer Wisconsin
(Diagnostic) data set (Wolberg, Street & Mangasarian; UCI Machine Learning Repository,
https://doi.org/10.24432/C5DW2B, licence CC BY 4.0), as scikit-learn ships it
(sklearn/datasets/data/breast_cancer.csv: 569 rows, 30 features, label 0 = malignant,
1 = benign).

A seeded split (numpy default_rng(2016)): 114 test rows, 455 training rows; every feature
standardised by the training rows' mean and standard deviation; columns x1..x30 the features,
x31 the label. Usage: python3 scripts/make-breast-cancer-data.py PATH/TO/breast_cancer.csv
(e.g. unzip it from a scikit-learn wheel: pip download scikit-learn --no-deps).
"""
import csv
import sys
from pathlib import Path

import numpy as np

rows = list(csv.reader(open(sys.argv[1])))
n, p = int(rows[0][0]), int(rows[0][1])
data = np.array([[float(v) for v in r] for r in rows[1:]])
X, y = data[:, :p], data[:, p]
perm = np.random.default_rng(2016).permutation(n)
test, train = perm[:114], perm[114:]
Z = (X - X[train].mean(0)) / X[train].std(0)
out = Path(__file__).resolve().parent.parent / "scenarios" / "data"
header = ",".join(f"x{k + 1}" for k in range(p + 1))
for name, idx in [("train", train), ("test", test)]:
    np.savetxt(out / f"breast-cancer-{name}.csv", np.c_[Z[idx], y[idx]], delimiter=",", header=header,
               comments="", fmt="%.6g")
