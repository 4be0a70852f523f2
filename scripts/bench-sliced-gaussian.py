#!/usr/bin/env python3
"""Sliced Gaussian sums in high dimension against direct (issue 21, item 3).

The issue's case: x, y ~ N(0, I_d), d = 50, N = M = 10^5, σ the median pairwise distance
(measured on 2000 points, about √(2d) ≈ 10). The error of `wgf sum --method sliced` with P
fixed directions is measured against direct on the first --check (2000) targets, relative as
everywhere in wgf (max|a − r| / max|r|), values and gradients; each target's sum does not
depend on the others, so the error on those targets is the full run's. The time of the full
sum (all M targets) is measured at the smaller P and scaled linearly in P above (the cost is
P times the cost of one direction), and direct's full time is measured once (--direct-full) or
scaled from the check targets. Prints one row per P and the estimate the engine reports.

    python3 scripts/bench-sliced-gaussian.py                    # d = 50, N = M = 1e5
    python3 scripts/bench-sliced-gaussian.py --n 20000 --dims 10,50 --directions 100,1000
    python3 scripts/bench-sliced-gaussian.py --kernel imq --n 20000 --dims 10,50 --directions 1000 --direct-full
    python3 scripts/bench-sliced-gaussian.py --kernel laplace --n 20000 --dims 10,50 --directions 1000 --direct-full
    python3 scripts/bench-sliced-gaussian.py --kernel riesz --r 1.5 --n 20000 --dims 10,50 --directions 500 --gradient --direct-full

--kernel imq takes imq:c=m (β = −1/2), m the median distance, instead of gaussian:sigma=m;
--kernel laplace takes laplace:alpha=1/m; --kernel riesz takes riesz:r=R (--r, unscaled).

Needs the release build (swift build -c release).
"""
import argparse, json, os, subprocess, tempfile
import numpy as np


def wgf_sum(wgf, kernel, x, y, method, out, extra, gradient):
    cmd = [wgf, "sum", "--kernel", kernel, "--sources", x, "--targets", y, "--method", method, "--out", out]
    cmd += (["--gradient"] if gradient else []) + extra
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"wgf sum failed: {r.stderr.strip()}")
    info = json.loads(r.stderr.strip().splitlines()[-1])
    return info, np.load(out)


def relative(a, r):
    return float(np.abs(a - r).max() / np.abs(r).max())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--wgf", default=".build/release/wgf")
    p.add_argument("--dims", default="50")
    p.add_argument("--n", type=int, default=100000, help="N = M")
    p.add_argument("--check", type=int, default=2000, help="targets checked against direct")
    p.add_argument("--directions", default="250,1000,4000,16000")
    p.add_argument("--timed", type=int, default=1000, help="largest P timed on all M targets")
    p.add_argument("--direct-full", action="store_true", help="time direct on all M targets")
    p.add_argument("--gradient", action="store_true")
    p.add_argument("--kernel", choices=["gaussian", "imq", "laplace", "riesz"], default="gaussian",
                   help="scaled by the median distance (riesz: not scaled)")
    p.add_argument("--r", type=float, default=1.5, help="riesz exponent, for --kernel riesz")
    a = p.parse_args()
    print("load", open("/proc/loadavg").read().split()[:3])
    tmp = tempfile.mkdtemp()
    for d in map(int, a.dims.split(",")):
        rng = np.random.default_rng(d)
        x = rng.standard_normal((a.n, d))
        y = rng.standard_normal((a.n, d))
        sub = x[:2000]
        dist = np.sqrt(((sub[:, None, :] - sub[None, :, :]) ** 2).sum(-1))
        sigma = float(np.median(dist[np.triu_indices(len(sub), 1)]))
        kernel = {"gaussian": f"gaussian:sigma={sigma:.6g}", "imq": f"imq:c={sigma:.6g}",
                  "laplace": f"laplace:alpha={1 / sigma:.6g}", "riesz": f"riesz:r={a.r:g}"}[a.kernel]
        xs, ys, yc = (os.path.join(tmp, f) for f in ("x.npy", "y.npy", "yc.npy"))
        np.save(xs, x)
        np.save(ys, y)
        np.save(yc, y[: a.check])
        out = os.path.join(tmp, "out.npy")
        info, ref = wgf_sum(a.wgf, kernel, xs, yc, "direct", out, [], a.gradient)
        direct_check = info["seconds"]
        if a.direct_full:
            direct_full = wgf_sum(a.wgf, kernel, xs, ys, "direct", out, [], a.gradient)[0]["seconds"]
            how = "measured"
        else:
            direct_full, how = direct_check * a.n / a.check, "scaled"
        print(f"d={d} N=M={a.n} {kernel} (median distance); direct {direct_full:.3g} s ({how}),"
              f" {direct_check:.3g} s on {a.check} targets")
        print("P, value error, gradient error, estimated error, seconds (all M targets), over direct")
        per_direction = None
        for count in map(int, a.directions.split(",")):
            info, got = wgf_sum(a.wgf, kernel, xs, yc, "sliced", out, ["--directions", str(count)], a.gradient)
            drawn = int(info["parameters"]["directions-drawn"])
            if count <= a.timed:
                t = wgf_sum(a.wgf, kernel, xs, ys, "sliced", out, ["--directions", str(count)], a.gradient)[0]
                per_direction, seconds = t["seconds"] / drawn, t["seconds"]
            else:
                seconds = per_direction * drawn
            ev = relative(got[:, 0], ref[:, 0]) if got.ndim == 2 else relative(got, ref)
            eg = relative(got[:, 1:], ref[:, 1:]) if got.ndim == 2 else float("nan")
            print(f"{drawn}, {ev:.3g}, {eg:.3g}, {float(info['parameters']['estimated-error']):.3g},"
                  f" {seconds:.3g}{'' if count <= a.timed else ' (scaled)'}, {seconds / direct_full:.3g}")


if __name__ == "__main__":
    main()
