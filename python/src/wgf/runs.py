"""Running scenarios: ``wgf.run``, ``wgf.resume`` and ``wgf.sweep``."""

from __future__ import annotations

import operator
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ._binary import EXIT_BAD_INPUT, EXIT_DIVERGED, Completed, WGFError, invoke, message_of
from ._display import Progress
from ._inputs import dumps, key, settings, vary_value
from .results import Run, Sweep


class WGFDivergedError(WGFError):
    """The run diverged (wgf's exit code 4): ``run`` is its directory, with every record up to
    the divergence, to look at."""

    def __init__(self, message: str, run: Run, command):
        super().__init__(message, EXIT_DIVERGED, command)
        self.run = run


@contextmanager
def _scenario_file(scenario: str | os.PathLike | Mapping[str, Any], name: str | None) -> Iterator[tuple[str, str]]:
    """The scenario as wgf takes it, and its TOML when it was a dict: a path, a bundled
    scenario's name, or a dict written to ``NAME.toml`` in a temporary directory (removed after
    the run: the run keeps its resolved copy, scenario.toml)."""
    if isinstance(scenario, Mapping):
        text = dumps(scenario)
        with tempfile.TemporaryDirectory(prefix="wgf-scenario-") as d:
            path = Path(d) / f"{name or 'scenario'}.toml"
            path.write_text(text, encoding="utf-8")
            yield str(path), text
        return
    if name is not None:
        raise ValueError("name= names a scenario given as a dict; a file or a bundled scenario has its own")
    path = os.fspath(scenario)
    yield (os.path.abspath(path) if os.path.exists(path) else path), ""


def _failure(done: Completed, path: str, toml: str) -> WGFError:
    """wgf's error; for a dict scenario, the message names it ``<dict>/NAME.toml`` (its temporary
    file is gone) and the error carries the TOML it was written as (``scenario_toml``), whose
    lines the message's line numbers count."""
    message = message_of(done.stderr) or f"wgf exited with code {done.returncode}"
    if toml:
        message = message.replace(path, f"<dict>/{Path(path).name}")
    error = WGFError(message, done.returncode, done.command)
    error.scenario_toml = toml
    return error


def _directory_of(stdout: str) -> str:
    """The run directory from ``wgf run``'s summary line (``NAME: completed, ... → DIR/``)."""
    for line in reversed(stdout.splitlines()):
        if " → " in line:
            return line.rsplit(" → ", 1)[1].rstrip("/") or "/"
    raise WGFError(f"wgf run did not name its run directory: {stdout!r}")


def _execute(args: list[str], title: str, out, show_progress: bool, executable: str | None,
             path: str = "", toml: str = "") -> Run:
    """Runs ``wgf run ARGS`` with its progress shown; the run, or the error."""
    progress = Progress(title, enabled=show_progress)
    try:
        done = invoke(args, exe=executable, progress=progress, check=False)
    except KeyboardInterrupt as stop:
        said = getattr(stop, "wgf_completed", None)
        if said is not None and " → " in said.stdout:
            directory = os.fspath(out) if out is not None else _directory_of(said.stdout)
            sys.stderr.write(f"wgf: stopped with a checkpoint; continue with wgf.resume({directory!r})\n")
        raise
    finally:
        progress.finish()

    def directory() -> str:
        return os.fspath(out) if out is not None else _directory_of(done.stdout)

    if done.returncode == 0:
        return Run(directory(), executable)
    if done.returncode == EXIT_DIVERGED:
        raise WGFDivergedError(message_of(done.stderr), Run(directory(), executable), done.command)
    raise _failure(done, path, toml)


def _integer(name: str, value: Any) -> str:
    try:
        return str(operator.index(value))
    except TypeError:
        raise TypeError(f"{name} must be an integer, not {value!r}") from None


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
            (``**{"flow.step-size": 0.1}``, passed as they are) or keywords, ``__`` for ``.``
            and ``_`` for ``-`` (``flow__step_size=0.1``). At a file key an array becomes an
            .npy file; ``init=ARRAY`` starts the particles there, ``target=ARRAY`` makes them
            the target's samples.

    Raises:
        WGFError: wgf refused the scenario or failed, with its own located message.
        WGFDivergedError: the run diverged (``.run`` holds what was recorded).
        KeyboardInterrupt: stopped (wgf saves a checkpoint first: :func:`resume` continues).
    """
    sets = settings(overrides)
    with _scenario_file(scenario, name) as (path, toml):
        args = ["run", path, "--progress", "json"]
        if out is not None:
            args += ["--out", os.fspath(out)]
        for flag, value in (("--seed", seed), ("--steps", steps), ("--threads", threads)):
            if value is not None:
                args += [flag, _integer(flag[2:], value)]
        if force:
            args.append("--force")
        return _execute(args + sets, Path(path).stem, out, show_progress, executable, path, toml)


def resume(
    run: Run | str | os.PathLike,
    steps: int | None = None,
    threads: int | None = None,
    *,
    show_progress: bool = True,
    executable: str | None = None,
) -> Run:
    """Continues a stopped run from its checkpoint, or extends a finished one to ``steps``
    (``wgf run --resume``): the outputs equal those of one uninterrupted run, bit for bit."""
    directory = run.directory if isinstance(run, Run) else Path(run)
    args = ["run", "--resume", os.fspath(directory), "--progress", "json"]
    for flag, value in (("--steps", steps), ("--threads", threads)):
        if value is not None:
            args += [flag, _integer(flag[2:], value)]
    return _execute(args, directory.name, directory, show_progress, executable)


def _seeds(seeds: Iterable[int] | str | None) -> list[str]:
    if seeds is None:
        return []
    if isinstance(seeds, str):
        return ["--seeds", seeds]
    if isinstance(seeds, range) and seeds.step == 1 and len(seeds) > 0:
        return ["--seeds", f"{seeds.start}..{seeds.stop - 1}"]
    return ["--seeds", ",".join(_integer("seeds", s) for s in seeds)]


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
    fail do not raise: see ``Sweep.runs["status"]``; a sweep wgf refuses, or that writes no
    tables, does (:class:`WGFError`)."""
    args = []
    for k, values in (vary or {}).items():
        k = key(k)
        args += ["--vary", f"{k}=" + ",".join(vary_value(v, k.rsplit(".", 1)[-1]) for v in values)]
    args += _seeds(seeds) + ["--jobs", _integer("jobs", jobs)] + settings(overrides)
    if threads is not None:
        args += ["--threads", _integer("threads", threads)]
    if quiet:
        args.append("--quiet")
    with _scenario_file(scenario, name) as (path, toml):
        stem = Path(path).stem if os.path.exists(path) else path
        directory = os.fspath(out) if out is not None else os.path.join("runs", f"{stem}-sweep")
        table = Path(directory) / "sweep.csv"
        before = table.stat().st_mtime_ns if table.exists() else None
        done = invoke(["sweep", path, "--out", directory, *args], exe=executable, check=False)
        # The tables are rewritten at the end of every sweep that ran: one left from an earlier
        # sweep is not this one's.
        written = table.exists() and table.stat().st_mtime_ns != before
        if done.returncode == EXIT_BAD_INPUT or not written:
            raise _failure(done, path, toml)
    return Sweep(directory, executable)
