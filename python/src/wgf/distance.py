"""The distance metrics as functions of numpy arrays: ``wgf.distance``."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ._binary import invoke
from .kernel_sum import _points

METRICS = ("w2", "sliced-w2", "bures-w2", "sinkhorn", "energy-distance", "kl-knn")


def distance(
    x: Any,
    y: Any,
    metric: str = "w2",
    a: Any = None,
    b: Any = None,
    *,
    directions: int = 100,
    seed: int = 0,
    projections: Any = None,
    neighbours: int = 5,
    epsilon: float | None = None,
    executable: str | None = None,
    info: dict | None = None,
) -> float:
    """A distance between the point sets ``x`` (N × d or N) and ``y`` (M × d or M), with weights
    ``a`` and ``b`` (default uniform), as a run records it (``wgf distance``):

    - ``w2``: the exact 2-Wasserstein distance (network simplex; POT's ``ot.emd2`` agrees);
    - ``sliced-w2``: sliced W₂ over ``directions`` random directions (``seed``), or over the
      columns of ``projections`` (d × P, as POT takes them);
    - ``bures-w2``: W₂ between the Gaussians with each set's weighted moments;
    - ``sinkhorn``: the debiased Sinkhorn divergence S_ε for the cost |x − y|² at ``epsilon``
      (default 0.1 × y's mean variance per coordinate); GeomLoss's ``SamplesLoss("sinkhorn",
      p=2, blur=σ)`` is half of it at ε = 2σ²;
    - ``energy-distance``: 2E|X−Y| − E|X−X'| − E|Y−Y'|;
    - ``kl-knn``: the k-nearest-neighbour estimate of KL(x ‖ y), k = ``neighbours`` (weights
      not used).

    ``info`` (a dict) is filled with wgf's report (N, M, d, the seconds of the computation).
    """
    if metric not in METRICS:
        raise ValueError(f"metric {metric!r}: one of {', '.join(METRICS)}")
    xs, ys = _points("x", x), _points("y", y)
    if xs.shape[1] != ys.shape[1]:
        raise ValueError(f"x has {xs.shape[1]} coordinates, y has {ys.shape[1]}")
    with tempfile.TemporaryDirectory(prefix="wgf-distance-") as d:
        folder = Path(d)
        np.save(folder / "x.npy", xs)
        np.save(folder / "y.npy", ys)
        args = ["distance", "--metric", metric, "--x", folder / "x.npy", "--y", folder / "y.npy",
                "--directions", str(int(directions)), "--seed", str(int(seed)), "--neighbours", str(int(neighbours))]
        for name, weights, count in (("x", a, len(xs)), ("y", b, len(ys))):
            if weights is not None:
                w = np.ascontiguousarray(np.asarray(weights, dtype=np.float64)).reshape(-1)
                if len(w) != count:
                    raise ValueError(f"{len(w)} weights for the {count} points of {name}")
                np.save(folder / f"{name}w.npy", w)
                args += [f"--{name}-weights", folder / f"{name}w.npy"]
        if epsilon is not None:
            args.append(f"--epsilon={float(epsilon)!r}")  # (a negative value must not read as a flag)
        if projections is not None:
            np.save(folder / "p.npy", np.asarray(projections, dtype=np.float64))
            args += ["--projections", folder / "p.npy"]
        report = json.loads(invoke(args, exe=executable).stdout)
    if info is not None:
        info.update(report)
    return float(report["value"])
