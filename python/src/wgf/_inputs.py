"""Writing a run's inputs: scenario dicts as TOML, overrides as ``--set KEY=VALUE``, numpy
arrays as .npy files."""

from __future__ import annotations

import hashlib
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
# A string that --vary may take bare (no quotes): it reads back as this string, not as a number,
# boolean, array or table, and holds no comma, quote or bracket.
_BARE_STRING = re.compile(r"^[A-Za-z_][A-Za-z0-9_:.=+-]*$")


def inputs_directory() -> Path:
    """Where arrays given to a run are kept: ``$WGF_INPUTS``, else ``$XDG_CACHE_HOME/wgf/inputs``
    (``~/.cache/wgf/inputs``). Each array is a file named by the SHA-256 of its contents, kept
    after the run: the run's scenario.toml names it, so ``wgf run --resume`` and reruns find it."""
    env = os.environ.get("WGF_INPUTS")
    if env:
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "wgf" / "inputs"


def _is_array_like(value: Any) -> bool:
    """numpy arrays, pandas frames and series, and anything else with ``__array__``."""
    return hasattr(value, "__array__") and not isinstance(value, (str, bytes, np.generic))


def save_array(array: Any) -> str:
    """``array`` (anything numpy makes a float64 array of: an ndarray, a DataFrame, nested lists)
    as an .npy file in :func:`inputs_directory`; returns its absolute path. Safe from several
    threads and processes at once (each writes its own temporary file, then renames it)."""
    a = np.ascontiguousarray(np.asarray(array, dtype=np.float64))
    if a.ndim not in (1, 2):
        raise ValueError(f"an array of points must be (N, d) or (N,) for d = 1; this one has shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("an array of points holds NaN or infinite values")
    digest = hashlib.sha256(repr(a.shape).encode() + a.tobytes()).hexdigest()
    directory = inputs_directory()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{digest}.npy"
    if not path.exists():
        fd, partial = tempfile.mkstemp(dir=directory, prefix=f".{digest}.", suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, a)
            os.replace(partial, path)
        except BaseException:
            if os.path.exists(partial):
                os.remove(partial)
            raise
    return str(path)


def key(name: str) -> str:
    """A Python keyword as a scenario key: ``flow__step_size`` is ``flow.step-size``. A dotted key
    (``**{"parameters.s_w": 0.5}``) passes unchanged: scenario keys hold ``-``, names of formula
    parameters may hold ``_``."""
    if "." in name:
        return name
    return name.replace("__", ".").replace("_", "-")


def _toml_key(k: str) -> str:
    return k if _BARE_KEY.match(k) else _toml_string(k)


def _toml_string(text: str) -> str:
    """A TOML basic string: backslash, quote and every control character escaped."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _is_path_key(k: str) -> bool:
    return k == "file" or k.endswith("-file")


def literal(value: Any, key_name: str = "") -> str:
    """``value`` as a TOML value. At a file key (``file``, ``data-file``) an array (numpy, pandas,
    nested lists) is saved as an .npy file (:func:`save_array`) and becomes its path, and a
    relative path is made absolute against the current directory. Elsewhere an array is written
    as a TOML array of its values, and a 0-d array as its number."""
    if _is_path_key(key_name) and (_is_array_like(value) or isinstance(value, (list, tuple))):
        return literal(save_array(value))
    if _is_array_like(value):
        a = np.asarray(value)
        return literal(a.item() if a.ndim == 0 else a.tolist(), key_name)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        if _is_path_key(key_name) and not os.path.isabs(text):
            text = os.path.abspath(text)
        return _toml_string(text)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {literal(v, str(k))}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    raise TypeError(f"cannot write a {type(value).__name__} into a scenario")


def vary_value(value: Any, key_name: str) -> str:
    """A value of ``wgf sweep --vary``: a plain string bare (``sgd``, ``gaussian:sigma=2``), so the
    variant's label and directory are those the command line gives; anything else as TOML."""
    if isinstance(value, str) and _BARE_STRING.match(value) and value not in ("true", "false", "inf", "nan"):
        return value
    return literal(value, key_name)


def dumps(scenario: Mapping[str, Any]) -> str:
    """A scenario dict as a TOML document: top-level values first, then each table
    (``[population]``) and array of tables (``[[expect]]``); tables within tables inline."""
    head, tables = [], []
    for k, v in scenario.items():
        if isinstance(v, Mapping):
            body = "".join(f"{_toml_key(str(kk))} = {literal(vv, str(kk))}\n" for kk, vv in v.items())
            tables.append(f"[{_toml_key(k)}]\n{body}")
        elif isinstance(v, (list, tuple)) and v and all(isinstance(t, Mapping) for t in v):
            for t in v:
                body = "".join(f"{_toml_key(str(kk))} = {literal(vv, str(kk))}\n" for kk, vv in t.items())
                tables.append(f"[[{_toml_key(k)}]]\n{body}")
        else:
            head.append(f"{_toml_key(k)} = {literal(v, k)}\n")
    return "".join(head) + "".join("\n" + t for t in tables)


def settings(overrides: Mapping[str, Any]) -> list[str]:
    """Overrides as ``--set KEY=VALUE`` arguments. Two conveniences: ``init=ARRAY`` starts the
    population at the array's points (``population.init = {kind = "file", ...}``, and
    ``population.count`` its rows unless given), and ``target=ARRAY`` makes the array's points
    the target (``{kind = "samples", ...}``)."""
    args = []
    keys = {key(name) for name in overrides}
    for name, value in overrides.items():
        k = key(name)
        if k in ("init", "population.init") and _is_array_like(value):
            if "population.count" not in keys:
                # The scenario's count gives way to the array's rows.
                args += ["--set", f"population.count={len(np.asarray(value))}"]
            k, value = "population.init", {"kind": "file", "file": value}
        elif k == "target" and _is_array_like(value):
            value = {"kind": "samples", "file": value}
        last = k.rsplit(".", 1)[-1]
        args += ["--set", f"{k}={literal(value, last)}"]
    return args
