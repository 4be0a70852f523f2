"""wgf.sweep and the Sweep it returns, against its run directories."""

import numpy as np
import pytest

import wgf


def test_a_sweep_its_tables_and_its_runs():
    sweep = wgf.sweep("svgd-1d-mixture", vary={"step-size": [0.25, 0.1]}, seeds=range(1, 4), steps=20, jobs=2)
    runs = sweep.runs
    assert list(runs["variant"]) == ["step-size=0.25"] * 3 + ["step-size=0.1"] * 3
    assert list(runs["seed"]) == [1, 2, 3] * 2
    assert (runs["status"] == "completed").all()
    for _, row in runs.iterrows():
        run = sweep.run(row["variant"], row["seed"])
        assert run.info["seed"] == row["seed"]
        assert run.scenario["step-size"] == row["step-size"]
        assert row["final:mmd"] == run.metrics["mmd"].iloc[-1]
    # summary.csv: the mean over the seeds, as numpy computes it from the runs.
    summary = sweep.summary
    last = summary[(summary["variant"] == "step-size=0.1") & (summary["step"] == 20)].iloc[0]
    finals = [sweep.run("step-size=0.1", s).metrics["mmd"].iloc[-1] for s in (1, 2, 3)]
    assert abs(last["mmd:mean"] - np.mean(finals)) <= 1e-15 * max(1.0, abs(np.mean(finals)))
    assert abs(last["mmd:sd"] - np.std(finals, ddof=1)) <= 1e-12 * np.std(finals, ddof=1)
    # Rerunning skips the complete runs and gives the same tables (wall times aside).
    again = wgf.sweep("svgd-1d-mixture", vary={"step-size": [0.25, 0.1]}, seeds="1..3", steps=20)
    assert again.runs.drop(columns="wall-seconds").equals(runs.drop(columns="wall-seconds"))
    check = sweep.check()
    assert isinstance(check.passed, bool) and "step-size=0.1" in str(check)
    # Read back from its directory alone.
    loaded = wgf.load_sweep(sweep.directory)
    assert loaded.runs.equals(runs) and loaded.summary.equals(summary)
    assert "6 runs" in repr(loaded)


def test_a_refused_sweep_raises_and_never_returns_an_earlier_one():
    first = wgf.sweep("svgd-1d-mixture", vary={"flow.optimizer": ["sgd", "adagrad"]}, seeds=[1], steps=5)
    # Plain strings go bare, as on the command line: the labels and directories are the same.
    assert list(first.runs["variant"]) == ["flow.optimizer=sgd", "flow.optimizer=adagrad"]
    assert list(first.runs["directory"]) == ["flow.optimizer=sgd/seed-1", "flow.optimizer=adagrad/seed-1"]
    with pytest.raises(wgf.WGFError) as e:
        wgf.sweep("svgd-1d-mixture", vary={"flow.kernal": ["imq"]}, seeds=[1], steps=5)
    assert e.value.returncode == 3 and "flow.kernal: unknown key" in e.value.message
    with pytest.raises(wgf.WGFError) as e:  # a command-line error (64): no table written either
        wgf.sweep("svgd-1d-mixture", vary={"seed": [1, 2]}, steps=5)
    assert e.value.returncode == 64 and "seed" in e.value.message


def test_bundled_scenarios_are_listed_and_run_by_name():
    names = wgf.bundled()
    assert "quickstart" in names and "svgd-1d-mixture" in names and len(names) >= 20
    assert wgf.run(names[0], steps=1, show_progress=False).status == "completed"
