"""Finding the wgf executable and running it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

_configured: str | None = None

#: Exit codes of the wgf executable (``wgf --help``).
EXIT_EXPECTATION_FAILED = 1
EXIT_BAD_INPUT = 3
EXIT_DIVERGED = 4
EXIT_IO_FAILURE = 5
EXIT_USAGE = 64


class WGFError(RuntimeError):
    """wgf ended with an error: ``message`` is its own (located) message, ``returncode`` its
    exit code, ``command`` the command line."""

    def __init__(self, message: str, returncode: int | None = None, command: Sequence[str] = ()):
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.command = list(command)


class WGFNotFoundError(WGFError):
    """No wgf executable where the package looks for one."""


def set_executable(path: str | os.PathLike | None) -> None:
    """Use the wgf executable at ``path`` from now on (None: look for it again)."""
    global _configured
    if path is not None and not _is_executable(Path(path)):
        raise WGFNotFoundError(f"{path}: not an executable file")
    _configured = None if path is None else os.path.abspath(path)


def _is_executable(p: Path) -> bool:
    return p.is_file() and os.access(p, os.X_OK)


def _checkout_builds() -> list[Path]:
    """``.build/release/wgf`` of the wgf checkout the package was installed from (recorded at
    install time), or of a checkout holding this package's source (an editable install) or the
    current directory."""
    starts = []
    try:
        from ._checkout import CHECKOUT

        starts.append(Path(CHECKOUT))
    except ImportError:
        pass
    starts += [Path(__file__).resolve().parent, Path.cwd()]
    found = []
    for start in starts:
        for d in [start, *start.parents]:
            candidate = d / ".build" / "release" / "wgf"
            if _is_executable(candidate):
                found.append(candidate)
                break
    return found


def executable(path: str | os.PathLike | None = None) -> str:
    """The wgf executable: ``path`` if given; else the one set by :func:`set_executable`; else
    ``$WGF_BIN``; else ``wgf`` on ``PATH``; else the release build of the wgf checkout the package
    was installed from (``pip install ./python``), or of one holding the current directory."""
    tried = []
    if path is not None:
        if _is_executable(Path(path)):
            return os.path.abspath(path)
        raise WGFNotFoundError(f"{path}: not an executable file")
    if _configured is not None:
        return _configured
    env = os.environ.get("WGF_BIN")
    if env:
        if _is_executable(Path(env)):
            return os.path.abspath(env)
        raise WGFNotFoundError(f"WGF_BIN={env}: not an executable file")
    tried.append("WGF_BIN (unset)")
    on_path = shutil.which("wgf")
    if on_path:
        return on_path
    tried.append("wgf on PATH")
    builds = _checkout_builds()
    if builds:
        return str(builds[0])
    tried.append(".build/release/wgf of the checkout the package was installed from, or above the current directory")
    raise WGFNotFoundError(
        "no wgf executable found (tried " + ", ".join(tried) + "): build it with `swift build -c release` "
        "in the wgf checkout, then set WGF_BIN to its .build/release/wgf or call wgf.set_executable(path)"
    )


@dataclass
class Completed:
    """A finished wgf command: its exit code and outputs."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str


def message_of(stderr: str) -> str:
    """wgf's message without the progress lines (JSON objects) it may have written."""
    lines = [line for line in stderr.splitlines() if not line.startswith("{")]
    return "\n".join(lines).strip()


def invoke(
    args: Sequence[str],
    *,
    exe: str | None = None,
    progress: Callable[[dict], None] | None = None,
    check: bool = True,
    ok: Sequence[int] = (0,),
) -> Completed:
    """Runs ``wgf ARGS``. Progress lines (JSON objects on stderr) go to ``progress``; with
    ``check``, an exit code outside ``ok`` raises :class:`WGFError` with wgf's message. A
    KeyboardInterrupt stops wgf as Ctrl-C does at a terminal (SIGINT: a run saves a checkpoint
    first), waits for it, and is raised again."""
    command = [executable(exe), *map(str, args)]
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        encoding="utf-8", errors="replace",
    )
    out_chunks: list[str] = []
    reader = threading.Thread(target=lambda: out_chunks.append(process.stdout.read()), daemon=True)
    reader.start()
    err_lines: list[str] = []
    try:
        for line in process.stderr:
            if progress is not None and line.startswith("{"):
                try:
                    progress(json.loads(line))
                    continue
                except ValueError:
                    pass
            err_lines.append(line)
        process.wait()
    except KeyboardInterrupt as stop:
        process.send_signal(signal.SIGINT)
        process.wait()
        reader.join()
        # What wgf said as it stopped (a run names its directory), for the caller to pass on.
        stop.wgf_completed = Completed(command, process.returncode, "".join(out_chunks), "".join(err_lines))
        raise
    finally:
        reader.join()
    done = Completed(command, process.returncode, "".join(out_chunks), "".join(err_lines))
    if check and done.returncode not in ok:
        raise WGFError(message_of(done.stderr) or f"wgf exited with code {done.returncode}", done.returncode, command)
    return done
