"""The engine as a function of numpy arrays: ``wgf.kernel_sum``."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ._binary import invoke


def _points(name: str, a: Any) -> np.ndarray:
    p = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
    if p.ndim == 1:
        p = p[:, None]
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"{name}: expected an array of shape (N, d) or (N,), got {np.shape(a)}")
    return p


def kernel_sum(
    x: Any,
    y: Any,
    w: Any = None,
    kernel: str = "gaussian:sigma=0.5",
    method: str = "auto",
    tolerance: float = 1e-6,
    gradient: bool = False,
    period: float | None = None,
    threads: int | None = None,
    *,
    executable: str | None = None,
    info: dict | None = None,
):
    """s(y_j) = Σ_i w_i k(y_j − x_i) at every target, and with ``gradient`` also ∇s(y_j).

    Args:
        x: sources, (N, d) or (N,).
        y: targets, (M, d) or (M,).
        w: weights of the sources, (N,); default 1.
        kernel: ``NAME`` or ``NAME:PARAM=VALUE,...`` (``wgf list`` names them), or
            ``formula:EXPR`` in r.
        method: ``auto``, ``direct``, ``mesh`` (d ≤ 3) or ``sliced`` (riesz:r=1).
        tolerance: the relative accuracy asked of ``mesh``, ``sliced`` and ``auto``.
        period: sum over the periodic box [0, L)^d (minimum image).
        threads: threads (default: every core).
        info: a dict to fill with wgf's report (the method chosen, its parameters, seconds).

    Returns:
        The values (M,), or (values (M,), gradients (M, d)) with ``gradient``.

    The arrays travel as .npy files (no text round trip): 10⁶ points cost a copy, not a parse.
    """
    xs, ys = _points("x", x), _points("y", y)
    if xs.shape[1] != ys.shape[1]:
        raise ValueError(f"x has {xs.shape[1]} coordinates, y has {ys.shape[1]}")
    with tempfile.TemporaryDirectory(prefix="wgf-sum-") as d:
        folder = Path(d)
        np.save(folder / "x.npy", xs)
        np.save(folder / "y.npy", ys)
        args = [
            "sum", "--kernel", kernel, "--sources", folder / "x.npy", "--targets", folder / "y.npy",
            "--method", method, "--tolerance", repr(float(tolerance)), "--out", folder / "out.npy",
        ]
        if w is not None:
            ws = np.ascontiguousarray(np.asarray(w, dtype=np.float64)).reshape(-1)
            if ws.shape[0] != xs.shape[0]:
                raise ValueError(f"w has {ws.shape[0]} weights for {xs.shape[0]} sources")
            np.save(folder / "w.npy", ws)
            args += ["--weights", folder / "w.npy"]
        if gradient:
            args.append("--gradient")
        if period is not None:
            args += ["--period", repr(float(period))]
        if threads is not None:
            args += ["--threads", str(int(threads))]
        done = invoke(args, exe=executable)
        out = np.load(folder / "out.npy")
    if info is not None:
        lines = [line for line in done.stderr.splitlines() if line.startswith("{")]
        if lines:
            info.update(json.loads(lines[-1]))
    if gradient:
        return np.ascontiguousarray(out[:, 0]), np.ascontiguousarray(out[:, 1:])
    return out
