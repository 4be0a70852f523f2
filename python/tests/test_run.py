"""wgf.run and the Run it returns, against the files the binary wrote, read here without the
package (csv, h5py)."""

import csv
import math
import os
import subprocess

import h5py
import numpy as np
import pandas as pd
import pytest

import wgf
from pathlib import Path

from conftest import CHECKOUT, scenario_path


def read_csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_quickstart_by_name_gives_the_metrics_dataframe():
    run = wgf.run("quickstart", steps=40, show_progress=False)
    assert run.status == "completed"
    assert run.directory.name == "quickstart" and run.directory.parent.name == "runs"
    m = run.metrics
    rows = read_csv_rows(run.directory / "metrics.csv")
    assert m.index.name == "step" and m.index.dtype == np.int64
    assert list(m.index) == [int(r["step"]) for r in rows]
    assert list(m.columns) == ["time", "wall", "ksd", "mmd", "mean-error", "cov-error", "sliced-w2"]
    assert all(pd.api.types.is_float_dtype(m[c]) for c in m.columns)
    for c in ["ksd", "mmd", "mean-error", "cov-error", "sliced-w2", "time"]:
        assert list(m[c]) == [float(r[c]) for r in rows], c
    # run.json typed: numbers as numbers.
    info = run.info
    assert info["steps-taken"] == 40 and isinstance(info["final-metrics"]["ksd"], float)
    assert info["final-metrics"]["ksd"] == m["ksd"].iloc[-1]
    assert run.scenario["flow"]["kind"] == "svgd"


def test_positions_and_weights_are_the_trajectory_bit_for_bit(tmp_path):
    run = wgf.run(scenario_path("quickstart"), out=tmp_path / "q", steps=20, show_progress=False,
                  **{"record-every": 5})
    rows = read_csv_rows(run.directory / "trajectory.csv")
    steps = sorted({int(r["step"]) for r in rows})
    n = 300
    assert run.positions.shape == (len(steps), n, 2)
    assert list(run.steps) == steps == [0, 5, 10, 15, 20]
    assert list(run.times) == [s * 0.05 for s in steps]
    for r in rows:
        k, i = steps.index(int(r["step"])), int(r["particle"])
        assert run.positions[k, i, 0] == float(r["x1"]) and run.positions[k, i, 1] == float(r["x2"])
        assert run.weights[k, i] == float(r["weight"])
    assert run.velocities is None


def test_h5md_and_velocities_against_h5py(tmp_path):
    run = wgf.run("langevin-underdamped-ou", out=tmp_path / "u", steps=10, show_progress=False,
                  record__format="h5md", population__count=50, record_every=5)
    with h5py.File(run.directory / "trajectory.h5", "r") as f:
        group = f["particles"]["particles"]
        np.testing.assert_array_equal(run.positions, group["position"]["value"][()])
        np.testing.assert_array_equal(run.velocities, group["velocity"]["value"][()])
        np.testing.assert_array_equal(run.steps, group["position"]["step"][()])


def test_arrays_in_are_the_particles_out_bit_for_bit():
    rng = np.random.default_rng(3)
    start = rng.normal(size=(64, 2)) * [1e-3, 1e3] + 0.1
    run = wgf.run("quickstart", steps=0, init=start, show_progress=False)
    assert run.positions.shape == (1, 64, 2)
    assert np.array_equal(run.positions[0], start)
    # The array is kept (by content) where the run's scenario.toml points.
    path = run.scenario["population"]["init"]["file"]
    assert path.endswith(".npy") and np.array_equal(np.load(path), start)
    # Target samples from an array (1-D points from a vector): wgf takes the target's mean from
    # them, so mean-error at step 0 is |particle mean − sample mean|.
    samples = rng.normal(size=200) + 7
    mmd = wgf.run("mmd-gaussian-noise", steps=0, target=samples, show_progress=False,
                  **{"flow.target-samples": 200, "record.metrics": ["mean-error"], "expect": []})
    expected = abs(mmd.positions[0, :, 0].mean() - samples.mean())
    assert abs(mmd.metrics["mean-error"].iloc[0] - expected) <= 1e-12 * expected
    # Arrays at other keys are values: a vector as a TOML array, a 0-d array as its number.
    moved = wgf.run("quickstart", steps=0, show_progress=False, population__init__mean=np.array([1.5, -2.0]),
                    step_size=np.array(0.025))
    assert moved.scenario["population"]["init"]["mean"] == [1.5, -2.0] and moved.scenario["step-size"] == 0.025


def test_a_dict_scenario_and_keyword_overrides():
    scenario = {
        "title": 'Ornstein–Uhlenbeck "from a dict"\r\n\t\x07\\ end',
        "seed": 4, "steps": 30, "step-size": 0.010000000000000002, "record-every": 10,
        "population": {"count": 200, "dimension": 1, "init": {"kind": "gaussian", "mean": [3.0], "std": 0.1}},
        "flow": {"kind": "langevin", "potential": {"kind": "quadratic", "a": 2}, "temperature": 0.5},
        "record": {"metrics": ["mean-error"], "reference-mean": [0]},
        "expect": [{"metric": "mean-error", "at-most": 10.0}],
    }
    run = wgf.run(scenario, name="ou-dict", show_progress=False, flow__temperature=0.25, seed=9)
    assert run.name == "ou-dict" and run.directory.name == "ou-dict"
    assert run.scenario["flow"]["temperature"] == 0.25 and run.scenario["seed"] == 9
    assert run.scenario["title"] == 'Ornstein–Uhlenbeck "from a dict"\r\n\t\x07\\ end', "every character"
    assert run.scenario["step-size"] == 0.010000000000000002, "every digit of a float"
    assert list(run.metrics["time"]) == [k * 0.010000000000000002 for k in (0, 10, 20, 30)]
    assert list(run.metrics.index) == [0, 10, 20, 30]
    check = run.check()
    assert list(check["passed"]) == [True]
    assert check["value"].iloc[0] == run.metrics["mean-error"].loc[30]


def test_dotted_keys_pass_as_they_are():
    # A formula parameter's name may hold "_": dotted keys are not rewritten.
    run = wgf.run("formula-banana-svgd", steps=1, show_progress=False, **{"parameters.s_w": 0.5})
    assert run.scenario["parameters"]["s_w"] == 0.5
    with pytest.raises(ValueError, match="name="):
        wgf.run("quickstart", name="other", show_progress=False)
    with pytest.raises(TypeError, match="steps must be an integer"):
        wgf.run("quickstart", steps=2.5, show_progress=False)


def test_a_resumed_run_equals_one_run_in_one_go(tmp_path):
    whole = wgf.run("quickstart", out=tmp_path / "whole", steps=40, show_progress=False)
    part = wgf.run("quickstart", out=tmp_path / "part", steps=20, show_progress=False)
    resumed = wgf.resume(part, steps=40, show_progress=False)
    assert resumed.directory == part.directory and resumed.info["steps-taken"] == 40
    assert (whole.directory / "trajectory.csv").read_bytes() == (part.directory / "trajectory.csv").read_bytes()
    assert resumed.metrics.drop(columns="wall").equals(whole.metrics.drop(columns="wall"))


def test_arrays_are_saved_safely_from_threads(monkeypatch, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from wgf._inputs import save_array

    a = np.arange(20.0).reshape(10, 2)
    for trial in range(5):
        monkeypatch.setenv("WGF_INPUTS", str(tmp_path / f"cache-{trial}"))
        with ThreadPoolExecutor(8) as pool:
            paths = list(pool.map(lambda _: save_array(a), range(8)))
        assert len(set(paths)) == 1 and np.array_equal(np.load(paths[0]), a)
        assert sorted(p.name for p in (tmp_path / f"cache-{trial}").iterdir()) == [Path(paths[0]).name]


def test_the_same_run_twice_is_the_same_files(tmp_path):
    a = wgf.run("quickstart", out=tmp_path / "a", steps=15, show_progress=False, threads=1)
    b = wgf.run("quickstart", out=tmp_path / "b", steps=15, show_progress=False, threads=2)
    assert (a.directory / "trajectory.csv").read_bytes() == (b.directory / "trajectory.csv").read_bytes()
    assert np.array_equal(a.positions, b.positions)


def test_errors_carry_wgfs_located_message(tmp_path):
    with pytest.raises(wgf.WGFError) as e:
        wgf.run("quickstart", show_progress=False, flow__kernal="imq")
    assert e.value.returncode == 3
    assert "flow.kernal: unknown key (did you mean 'kernel'?)" in e.value.message
    with pytest.raises(wgf.WGFError) as e:
        wgf.run(tmp_path / "missing.toml", show_progress=False)
    assert "missing.toml" in str(e.value) and "no such file" in str(e.value)
    with pytest.raises(wgf.WGFError) as e:
        wgf.run("quickstart", steps=-1, show_progress=False)
    assert e.value.returncode == 64
    with pytest.raises(ValueError, match="NaN"):
        wgf.run("quickstart", init=np.array([[0.0, math.nan]]), show_progress=False)
    # A divergence: the exception holds the run, every record up to it.
    with pytest.raises(wgf.WGFDivergedError) as e:
        wgf.run("quickstart", steps=50, show_progress=False, step_size=1e6, flow__optimizer="sgd")
    assert e.value.returncode == 4 and e.value.run.status == "diverged"
    assert "diverged at step" in e.value.message
    assert len(e.value.run.metrics) >= 1


def test_the_executable_is_found_or_named(monkeypatch, exe, tmp_path):
    # Without WGF_BIN and with nothing on PATH: the checkout's release build.
    monkeypatch.delenv("WGF_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert wgf.executable() == str(CHECKOUT / ".build" / "release" / "wgf")
    monkeypatch.setenv("WGF_BIN", exe)
    monkeypatch.setenv("WGF_BIN", str(tmp_path / "nowhere"))
    with pytest.raises(wgf.WGFNotFoundError, match="WGF_BIN"):
        wgf.run("quickstart", show_progress=False)
    wgf.set_executable(exe)
    try:
        assert wgf.executable() == exe
    finally:
        wgf.set_executable(None)
    with pytest.raises(wgf.WGFNotFoundError):
        wgf.set_executable(tmp_path)


def test_load_a_run_made_at_the_terminal(exe, tmp_path):
    subprocess.run([exe, "run", "svgd-1d-mixture", "--out", tmp_path / "t", "--steps", "20", "--quiet"], check=True)
    run = wgf.load(tmp_path / "t")
    assert run.positions.shape[2] == 1 and run.metrics.index[-1] == 20
    assert "completed" in repr(run)
    with pytest.raises(FileNotFoundError):
        wgf.load(tmp_path)


def test_games_have_two_populations():
    run = wgf.run("game-circle-cos", steps=10, show_progress=False)
    assert set(run.populations) == {"min", "max"}
    assert run.populations["max"].positions.shape[0] == len(run.populations["max"].steps)
    with pytest.raises(ValueError, match="populations 'min', 'max'"):
        run.positions


def test_plots_show_inline():
    run = wgf.run("quickstart", steps=20, show_progress=False)
    for kind in ["particles", "paths", "metrics", "animation"]:
        bundle = run.plot(kind)._repr_mimebundle_()
        assert list(bundle) == ["text/html" if kind == "animation" else "image/svg+xml"], kind
        assert next(iter(bundle.values())).lstrip().startswith(("<svg", "<?xml")), kind
    two = run.plot("particles", steps=run.steps[[0, -1]])
    assert two.svg == run.plot("particles", steps=[0, 20]).svg != run.plot("particles").svg, "two snapshots"
    with pytest.raises(ValueError):
        run.plot("histogram")


def test_compare_gives_a_dataframe_of_numbers():
    a = wgf.run("quickstart", out="a", steps=30, show_progress=False)
    b = wgf.run("quickstart", out="b", steps=30, show_progress=False, flow__optimizer="sgd", step_size=0.5)
    table = wgf.compare([a, b], metric="ksd", threshold=1e-9)
    assert list(table.index) == ["a", "b"]
    assert table.loc["a", "final"] == a.metrics["ksd"].iloc[-1]
    assert table.loc["b", "final"] == b.metrics["ksd"].iloc[-1]
    assert table["N"].tolist() == [300, 300]
    assert table["step-to-threshold"].isna().all(), "never reached: empty cells, NaN"


def test_a_row_cut_by_a_killed_run_is_dropped(tmp_path):
    run = wgf.run("quickstart", out=tmp_path / "k", steps=30, show_progress=False)
    path = run.directory / "metrics.csv"
    text = path.read_text()
    path.write_text(text + "40,2.0,0.5,0.12")  # a record cut mid-write: no newline
    cut = wgf.load(run.directory)
    assert list(cut.metrics.index) == [0, 10, 20, 30]
    assert cut.metrics["ksd"].iloc[-1] == run.metrics["ksd"].iloc[-1]
