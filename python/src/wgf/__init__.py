"""wgf from Python: run scenarios of Wasserstein gradient flows with interacting particles and
read their outputs as numpy arrays and pandas DataFrames.

    >>> import wgf
    >>> run = wgf.run("quickstart", steps=200)
    >>> run.metrics.tail()
    >>> run.positions.shape          # (records, particles, d)
    >>> wgf.kernel_sum(x, y, kernel="gaussian:sigma=0.5")

The package drives the wgf executable (found by :func:`executable`); see docs/python.md.
"""

from ._binary import WGFError, WGFNotFoundError, executable, set_executable
from .distance import distance
from .kernel_sum import kernel_sum
from .results import Population, Run, Sweep, SweepCheck, compare, load, load_sweep
from .runs import WGFDivergedError, resume, run, sweep

__version__ = "0.2.0"


def bundled() -> list[str]:
    """The names of the bundled scenarios (``wgf list``)."""
    from ._binary import invoke

    import json

    rows = json.loads(invoke(["list", "--format", "json"]).stdout)
    return [row["name"] for row in rows if row["kind"] == "scenario"]


__all__ = [
    "Population", "Run", "Sweep", "SweepCheck", "WGFDivergedError", "WGFError", "WGFNotFoundError", "bundled",
    "compare", "distance", "executable", "kernel_sum", "load", "load_sweep", "resume", "run", "set_executable", "sweep",
]
