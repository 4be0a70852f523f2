"""examples/quickstart.ipynb executed headless (nbclient), as a user would run it."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"


def test_the_example_notebook_runs_and_draws(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o for o in outputs if "image/svg+xml" in o.get("data", {})]
    assert figures and "</svg>" in figures[0]["data"]["image/svg+xml"]
    tables = [o for o in outputs if "text/html" in o.get("data", {}) and "<table" in o["data"]["text/html"]]
    assert len(tables) >= 2, "the metrics and the check as DataFrames"
    # The run's progress: a line updated in place, last at the last step.
    progress = [o for o in outputs if o.output_type == "display_data" and "<pre>quickstart [" in o["data"].get("text/html", "")]
    assert progress and "step 500/500" in progress[-1]["data"]["text/html"]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "largest error relative to the largest value" in printed
    assert (tmp_path / "runs" / "quickstart" / "metrics.csv").is_file()
