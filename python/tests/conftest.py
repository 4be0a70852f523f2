"""The tests run the real wgf executable (no mocks): the checkout's release build, or $WGF_BIN."""

import os
from pathlib import Path

import pytest

import wgf

CHECKOUT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Each test in its own directory (runs/ lands there), with its own inputs cache."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WGF_INPUTS", str(tmp_path / "inputs"))
    yield


@pytest.fixture(scope="session")
def exe():
    return wgf.executable()


def scenario_path(name):
    return str(CHECKOUT / "scenarios" / f"{name}.toml")
