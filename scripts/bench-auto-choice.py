#!/usr/bin/env python3
"""How close `auto` comes to the fastest engine (issue 19, goal 4: within 1.3×).

For each kernel × dimension × N (= M) × tolerance, times `wgf sum --gradient` with `direct`,
`mesh` and `auto` (one thread, median of --repeat), and prints auto's engine, its time over
the fastest's, and the verdict. Exit status 1 when some case is above --limit (1.3), so the
goal can be checked by running this in one sitting (a benchmark, not a test: wall times).

    python3 scripts/bench-auto-choice.py                     # the default grid
    python3 scripts/bench-auto-choice.py --kernels gaussian:sigma=0.5 --dims 3 --sizes 4000

Points: x, y ~ N(0, I_d) (numpy, fixed seeds). Direct is timed up to --direct-max pairs and
extrapolated (quadratically) above. Needs the release build (swift build -c release).
"""
import argparse, json, os, subprocess, sys, tempfile
import numpy as np

def run_sum(wgf, kernel, x, y, method, tol, repeat):
    r = subprocess.run(
        [wgf, "sum", "--kernel", kernel, "--sources", x, "--targets", y, "--method", method,
         "--tolerance", str(tol), "--gradient", "--threads", "1", "--repeat", str(repeat),
         "--out", os.path.join(os.path.dirname(x), "out.npy")],
        capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"wgf sum failed: {r.stderr.strip()}")
    info = json.loads(r.stderr.strip().splitlines()[-1])
    return info["method"], info["seconds"], float(info.get("parameters", {}).get("estimated-seconds", "nan"))

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--wgf", default=".build/release/wgf")
    p.add_argument("--kernels", default="gaussian:sigma=0.5,imq:c=1,laplace:alpha=1,matern:nu=1.5,coulomb")
    p.add_argument("--dims", default="1,2,3")
    p.add_argument("--sizes", default="1000,4000,20000")
    p.add_argument("--tolerances", default="1e-3,1e-6")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--direct-max", type=float, default=4e8, help="largest N·M timed directly")
    p.add_argument("--limit", type=float, default=1.3)
    a = p.parse_args()
    load = open("/proc/loadavg").read().split()[:3]
    print(f"# load average {' '.join(load)}; one thread; seconds are medians of {a.repeat}")
    print(f"{'kernel':20} {'d':>2} {'N':>7} {'tol':>6} {'direct':>9} {'mesh':>9} {'auto':>9} {'auto picks':>10} {'auto/best':>9} {'mesh model':>10}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for d in map(int, a.dims.split(",")):
            for n in map(int, a.sizes.split(",")):
                rng = np.random.default_rng(1000 * d + n)
                xs, ys = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
                np.save(xs, rng.normal(size=(n, d)))
                np.save(ys, rng.normal(size=(n, d)))
                for kernel in a.kernels.split(","):
                    direct = None
                    for tol in map(float, a.tolerances.split(",")):
                        if direct is None:
                            if n * n <= a.direct_max:
                                direct = run_sum(a.wgf, kernel, xs, ys, "direct", tol, a.repeat)[1]
                                direct_note = ""
                            else:
                                m = int((a.direct_max) ** 0.5)
                                np.save(os.path.join(tmp, "xs.npy"), np.load(xs)[:m])
                                np.save(os.path.join(tmp, "ys.npy"), np.load(ys)[:m])
                                t = run_sum(a.wgf, kernel, os.path.join(tmp, "xs.npy"), os.path.join(tmp, "ys.npy"),
                                            "direct", tol, 1)[1]
                                direct = t * (n / m) ** 2
                                direct_note = "~"
                        _, mesh, estimate = run_sum(a.wgf, kernel, xs, ys, "mesh", tol, a.repeat)
                        picked, auto, _ = run_sum(a.wgf, kernel, xs, ys, "auto", tol, a.repeat)
                        best = min(direct, mesh)
                        ratio = auto / best
                        worst = max(worst, ratio)
                        flag = "" if ratio <= a.limit else "  ✗"
                        print(f"{kernel:20} {d:>2} {n:>7} {tol:>6g} {direct_note}{direct:>8.3g} {mesh:>9.3g} {auto:>9.3g} "
                              f"{picked:>10} {ratio:>9.2f} {estimate:>10.3g}{flag}", flush=True)
    print(f"# worst auto/best: {worst:.2f} (goal ≤ {a.limit})")
    return 0 if worst <= a.limit else 1

if __name__ == "__main__":
    sys.exit(main())
