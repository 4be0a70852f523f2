"""A run's (and a sweep's) outputs as numpy arrays and pandas DataFrames."""

from __future__ import annotations

import io
import json
import os
import tempfile
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ._binary import EXIT_EXPECTATION_FAILED, invoke
from ._display import Figure


def _complete_rows(path: Path) -> str:
    """A CSV file wgf wrote, up to its last complete row (a run killed mid-write may leave a cut
    one, which wgf's readers drop too)."""
    text = path.read_text(encoding="utf-8")
    return text[: text.rfind("\n") + 1]


@dataclass(frozen=True)
class Population:
    """One population's trajectory: ``positions`` (records × particles × d), ``weights``
    (records × particles), ``velocities`` (as positions, or None when not recorded), and the
    ``steps`` and ``times`` of its records. Particles are in id order."""

    name: str
    positions: np.ndarray
    weights: np.ndarray
    velocities: np.ndarray | None
    steps: np.ndarray
    times: np.ndarray


class Run:
    """A run directory written by ``wgf run``, read lazily: see the properties. ``wgf.load(dir)``
    makes one; ``wgf.run(...)`` returns one."""

    def __init__(self, directory: str | os.PathLike, executable: str | None = None):
        self.directory = Path(directory).resolve()
        self._exe = executable
        if not (self.directory / "run.json").is_file():
            raise FileNotFoundError(f"{self.directory}: not a wgf run directory (no run.json)")

    def __repr__(self) -> str:
        return f"<wgf.Run {self.name!r} {self.status} at {self.directory}>"

    @property
    def info(self) -> dict:
        """run.json: what was run, how it ended, timings, final metrics (numbers as numbers)."""
        return json.loads((self.directory / "run.json").read_text(encoding="utf-8"))

    @property
    def status(self) -> str:
        """``completed``, ``diverged``, ``interrupted``, ``io-failure`` or ``running``."""
        return self.info["status"]

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.info["scenario"]["name"]

    @cached_property
    def scenario(self) -> dict:
        """The resolved scenario (the run's scenario.toml) as a dict."""
        return tomllib.loads((self.directory / "scenario.toml").read_text(encoding="utf-8"))

    @cached_property
    def metrics(self) -> pd.DataFrame:
        """metrics.csv: one row per record, indexed by ``step``; columns ``time``, ``wall`` and
        one per metric, all numeric."""
        path = self.directory / "metrics.csv"
        frame = pd.read_csv(io.StringIO(_complete_rows(path)))
        frame["step"] = frame["step"].astype(np.int64)
        return frame.set_index("step")

    @cached_property
    def populations(self) -> dict[str, Population]:
        """Every population's trajectory, by name (``wgf export``: CSV or H5MD trajectories alike)."""
        with tempfile.TemporaryDirectory(prefix="wgf-export-") as out:
            invoke(["export", self.directory, "--out", out], exe=self._exe)
            d = Path(out)
            common_steps = np.load(d / "steps.npy")
            common_times = np.load(d / "times.npy")
            result = {}
            for name in [p["name"] for p in self.info["particles"]]:
                velocities = d / f"{name}.velocities.npy"
                own_steps = d / f"{name}.steps.npy"
                result[name] = Population(
                    name=name,
                    positions=np.load(d / f"{name}.positions.npy"),
                    weights=np.load(d / f"{name}.weights.npy"),
                    velocities=np.load(velocities) if velocities.exists() else None,
                    steps=np.load(own_steps) if own_steps.exists() else common_steps,
                    times=np.load(d / f"{name}.times.npy") if own_steps.exists() else common_times,
                )
            return result

    def _single(self) -> Population:
        pops = self.populations
        if len(pops) != 1:
            names = ", ".join(repr(n) for n in pops)
            raise ValueError(f"this run has populations {names}: use run.populations[name]")
        return next(iter(pops.values()))

    @property
    def positions(self) -> np.ndarray:
        """The positions (records × particles × d) of a run with one population."""
        return self._single().positions

    @property
    def weights(self) -> np.ndarray:
        """The weights (records × particles) of a run with one population."""
        return self._single().weights

    @property
    def velocities(self) -> np.ndarray | None:
        """The velocities (records × particles × d) of a run with one population, or None."""
        return self._single().velocities

    @property
    def steps(self) -> np.ndarray:
        """The steps of the trajectory's records (of the first population)."""
        return next(iter(self.populations.values())).steps

    @property
    def times(self) -> np.ndarray:
        """The simulated times of the trajectory's records (of the first population)."""
        return next(iter(self.populations.values())).times

    def check(self) -> pd.DataFrame:
        """The scenario's expectations judged on the metrics (``wgf check``): one row each, with
        ``metric``, ``bound``, ``threshold``, ``by-step``, the ``step`` and ``value`` judged,
        ``passed`` and ``detail``. Nothing raises when one fails: see ``passed``."""
        done = invoke(["check", self.directory, "--format", "csv"], exe=self._exe, ok=(0, EXIT_EXPECTATION_FAILED))
        return pd.read_csv(io.StringIO(done.stdout))

    def plot(self, kind: str = "particles", **options) -> Figure:
        """A figure of the run (``wgf plot``): ``particles``, ``paths``, ``metrics`` or
        ``animation``, shown inline in Jupyter. ``options`` are ``wgf plot``'s (``steps=[0, 100]``,
        ``frames=30``, ``path_particles=20``, ``animated_particles=200``)."""
        kinds = ("particles", "paths", "metrics", "animation")
        if kind not in kinds:
            raise ValueError(f"kind {kind!r}: one of {', '.join(kinds)}")
        args = ["plot", self.directory, "--kinds", kind]
        for k, v in options.items():
            if isinstance(v, str) or not hasattr(v, "__iter__"):
                value = str(v)
            else:  # steps as a list, a range or an array
                value = ",".join(str(int(s)) for s in v)
            args += ["--" + k.replace("_", "-"), value]
        with tempfile.TemporaryDirectory(prefix="wgf-plot-") as out:
            invoke(args + ["--out", out], exe=self._exe)
            return Figure((Path(out) / f"{kind}.svg").read_text(encoding="utf-8"), kind)


def load(directory: str | os.PathLike, executable: str | None = None) -> Run:
    """The run in ``directory`` (written by ``wgf run``)."""
    return Run(directory, executable)


def compare(
    runs: Iterable[Run | str | os.PathLike],
    metric: str | None = None,
    threshold: float | None = None,
    executable: str | None = None,
) -> pd.DataFrame:
    """``wgf compare`` of runs on one metric: per run its flow, particle count, steps, final and
    best values, the step and time to ``threshold``, the rate of decay and the wall time, one row
    per run (indexed by ``run``; a missing value is NaN)."""
    paths = [r.directory if isinstance(r, Run) else Path(r) for r in runs]
    args = ["compare", *paths, "--format", "csv", "--no-plot"]
    if metric is not None:
        args += ["--metric", metric]
    if threshold is not None:
        args += ["--threshold", repr(float(threshold))]
    done = invoke(args, exe=executable)
    return pd.read_csv(io.StringIO(done.stdout)).set_index("run")


class Sweep:
    """A sweep directory written by ``wgf sweep``: its tables and runs."""

    def __init__(self, directory: str | os.PathLike, executable: str | None = None):
        self.directory = Path(directory).resolve()
        self._exe = executable
        if not (self.directory / "sweep.csv").is_file():
            raise FileNotFoundError(f"{self.directory}: not a wgf sweep directory (no sweep.csv)")

    def __repr__(self) -> str:
        return f"<wgf.Sweep {len(self.runs)} runs at {self.directory}>"

    @property
    def runs(self) -> pd.DataFrame:
        """sweep.csv: one row per run (variant, varied keys, seed, status, exit code, wall time,
        final metrics, step and time to each expectation)."""
        return pd.read_csv(self.directory / "sweep.csv", keep_default_na=False, na_values=[""])

    @property
    def summary(self) -> pd.DataFrame:
        """summary.csv: per variant and recorded step, each metric's mean, standard deviation and
        95 % confidence half-width over the seeds."""
        return pd.read_csv(self.directory / "summary.csv", keep_default_na=False, na_values=[""])

    def run(self, variant: str, seed: int) -> Run:
        """The run of ``variant`` (its label, as in sweep.csv) and ``seed``."""
        rows = self.runs
        match = rows[(rows["variant"] == variant) & (rows["seed"] == seed)]
        if match.empty:
            raise KeyError(f"no run of variant {variant!r} with seed {seed} in {self.directory}")
        return Run(self.directory / match["directory"].iloc[0], self._exe)

    def check(self) -> "SweepCheck":
        """``wgf check`` of the sweep: each expectation over the seeds against its fraction."""
        done = invoke(["check", self.directory], exe=self._exe, ok=(0, EXIT_EXPECTATION_FAILED))
        return SweepCheck(done.returncode == 0, done.stdout)


@dataclass(frozen=True)
class SweepCheck:
    """A sweep's expectations judged over its seeds: ``passed``, and wgf's ``table``."""

    passed: bool
    table: str

    def __str__(self) -> str:
        return self.table

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.table)}</pre>"


def load_sweep(directory: str | os.PathLike, executable: str | None = None) -> Sweep:
    """The sweep in ``directory`` (written by ``wgf sweep``)."""
    return Sweep(directory, executable)

