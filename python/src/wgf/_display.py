"""What a notebook shows: figures as inline SVG or HTML, and a run's progress."""

from __future__ import annotations

import html
import sys
from pathlib import Path


class Figure:
    """An SVG figure wgf drew (``Run.plot``): shown inline by Jupyter, as an image, or for the
    animation as HTML (a browser plays an SVG's animation inline, not an image's); saved with
    :meth:`save`."""

    def __init__(self, svg: str, kind: str):
        self.svg = svg
        self.kind = kind

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        # One representation, so that a saved notebook holds the figure once.
        return {"text/html" if self.kind == "animation" else "image/svg+xml": self.svg}

    def save(self, path: str) -> None:
        """Writes the SVG to ``path``."""
        Path(path).write_text(self.svg, encoding="utf-8")

    def __repr__(self) -> str:
        return f"<wgf.Figure {self.kind}, {len(self.svg)} bytes of SVG>"


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


class Progress:
    """Shows wgf's progress lines (``wgf run --progress json``): an updating line of HTML in a
    notebook, a line rewritten with ``\\r`` on a terminal, nothing elsewhere."""

    def __init__(self, title: str, enabled: bool = True):
        self.title = title
        self.handle = None
        self.notebook = enabled and _in_notebook()
        self.terminal = enabled and not self.notebook and sys.stderr.isatty()

    def text(self, p: dict) -> str:
        steps = max(1, int(p.get("steps", 1)))
        step = int(p.get("step", 0))
        filled = int(24 * step / steps)
        line = f"{self.title} [{'=' * filled}{' ' * (24 - filled)}] step {step}/{steps}"
        if "metric" in p:
            line += f"  {p['metric']} {p['value']:.6g}"
        return line

    def __call__(self, p: dict) -> None:
        if self.notebook:
            from IPython.display import HTML, display

            content = HTML(f"<pre>{html.escape(self.text(p))}</pre>")
            if self.handle is None:
                self.handle = display(content, display_id=True)
            else:
                self.handle.update(content)
        elif self.terminal:
            sys.stderr.write("\r" + self.text(p) + "\x1b[K")
            sys.stderr.flush()

    def finish(self) -> None:
        if self.terminal:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
