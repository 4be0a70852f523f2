"""Running scenarios: ``wgf.run`` and ``wgf.sweep``."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ._binary import EXIT_DIVERGED, WGFError, invoke, message_of
from ._display import Progress
from ._inputs import dumps, key, literal, settings
from .results import Run, Sweep


class WGFDivergedError(WGFError):
    """The run diverged (wgf's exit code 4): ``run`` is its directory, with every record up to
    the divergence, to look at."""

    def __init__(self, message: str, run: Run, command):
        super().__init__(message, EXIT_DIVERGED, command)
        self.run = run


@contextmanager
def _scenario_file(scenario: str | os.PathLike | Mapping[str, Any], name: str | None) -> Iterator[str]:
    """The scenario as wgf takes it: a path, a bundled scenario's name, or a dict written to
    ``NAME.toml`` in a temporary directory (removed after the run: the run keeps its resolved
    copy, scenario.toml)."""
    if isinstance(scenario, Mapping):
        with tempfile.TemporaryDirectory(prefix="wgf-scenario-") as d:
            path = Path(d) / f"{name or 'scenario'}.toml"
            path.write_text(dumps(scenario), encoding="utf-8")
            yield str(path)
        return
    text = os.fspath(scenario)
    yield os.path.abspath(text) if os.path.exists(text) else text


def _directory_of(stdout: str) -> str:
    """The run directory from ``wgf run``'s summary line (``NAME: completed, ... → DIR/``)."""
    for line in reversed(stdout.splitlines()):
        if " → " in line:
            return line.rsplit(" → ", 1)[1].rstrip("/") or "/"
    raise WGFError(f"wgf run did not name its run directory: {stdout!r}")


def run(
    scenario: str | os.PathLike | Mapping[str, Any] = "quickstart",
    out: str | os.PathLike | None = None,
    seed: int | None = None,
    steps: int | None = None,
    threads: int | None = None,
    *,
    force: bool = False,
    name: str | None = None,
    show_progress: bool = True,
    executable: str | None = None,
    **overrides: Any,
) -> Run:
    """Runs a scenario and returns its :class:`Run`.

    Args:
        scenario: a scenario file, the name of a bundled scenario (``"quickstart"``), or a dict
            (tables as nested dicts, ``[[expect]]`` as a list of dicts; written as ``NAME.toml``).
        out: the run directory (new or empty); default ``runs/<name>/`` in the current directory.
        seed, steps, threads: as ``wgf run --seed/--steps/--threads``.
        force: replace an earlier run in ``out``.
        name: the scenario's name when ``scenario`` is a dict (default ``scenario``).
        show_progress: show progress (in a notebook, or on a terminal).
        executable: the wgf executable (default: see :func:`wgf.executable`).
        **overrides: scenario keys to override (``wgf run --set``): dotted keys
            (``**{"flow.step-size": 0.1}``) or keywords, ``__`` for ``.`` and ``_`` for ``-``
            (``flow__step_size=0.1``). A numpy array becomes an .npy file; ``init=ARRAY`` starts
            the particles there, ``target=ARRAY`` makes them the target's samples.

    Raises:
        WGFError: wgf refused the scenario or failed, with its own located message.
        WGFDivergedError: the run diverged (``.run`` holds what was recorded).
    """
    sets = settings(overrides)
    with _scenario_file(scenario, name) as path:
        args = ["run", path, "--progress", "json"]
        if out is not None:
            args += ["--out", os.fspath(out)]
        if seed is not None:
            args += ["--seed", str(int(seed))]
        if steps is not None:
            args += ["--steps", str(int(steps))]
        if threads is not None:
            args += ["--threads", str(int(threads))]
        if force:
            args.append("--force")
        progress = Progress(Path(path).stem, enabled=show_progress)
        try:
            done = invoke(args + sets, exe=executable, progress=progress, check=False)
        finally:
            progress.finish()
    if done.returncode == 0:
        return Run(_directory_of(done.stdout), executable)
    message = message_of(done.stderr)
    if done.returncode == EXIT_DIVERGED:
        raise WGFDivergedError(message, Run(_directory_of(done.stdout), executable), done.command)
    raise WGFError(message or f"wgf exited with code {done.returncode}", done.returncode, done.command)


def _seeds(seeds: Iterable[int] | str | None) -> list[str]:
    if seeds is None:
        return []
    if isinstance(seeds, str):
        return ["--seeds", seeds]
    if isinstance(seeds, range) and seeds.step == 1 and len(seeds) > 0:
        return ["--seeds", f"{seeds.start}..{seeds.stop - 1}"]
    return ["--seeds", ",".join(str(int(s)) for s in seeds)]


def sweep(
    scenario: str | os.PathLike | Mapping[str, Any],
    vary: Mapping[str, Iterable[Any]] | None = None,
    seeds: Iterable[int] | str | None = None,
    jobs: int = 1,
    out: str | os.PathLike | None = None,
    threads: int | None = None,
    *,
    name: str | None = None,
    quiet: bool = True,
    executable: str | None = None,
    **overrides: Any,
) -> Sweep:
    """Runs ``wgf sweep``: every combination of the ``vary`` values (a dict of key → values,
    keys as in :func:`run`) for every seed (``range(1, 6)``, a list, or ``"1..5"``), ``jobs`` at
    a time; returns the :class:`Sweep`. Rerunning it skips the runs already complete. Runs that
    fail do not raise: see ``Sweep.runs["status"]``; a sweep wgf refuses does (:class:`WGFError`).
    """
    args = []
    for k, values in (vary or {}).items():
        args += ["--vary", f"{key(k)}=" + ",".join(literal(v, key(k).rsplit('.', 1)[-1]) for v in values)]
    args += _seeds(seeds) + ["--jobs", str(int(jobs))] + settings(overrides)
    if threads is not None:
        args += ["--threads", str(int(threads))]
    if quiet:
        args.append("--quiet")
    with _scenario_file(scenario, name) as path:
        stem = Path(path).stem if os.path.exists(path) else path
        directory = os.fspath(out) if out is not None else os.path.join("runs", f"{stem}-sweep")
        done = invoke(["sweep", path, "--out", directory, *args], exe=executable, check=False)
    if not os.path.isfile(os.path.join(directory, "sweep.csv")):
        raise WGFError(
            message_of(done.stderr) or f"wgf sweep exited with code {done.returncode}", done.returncode, done.command
        )
    return Sweep(directory, executable)
