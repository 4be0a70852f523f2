"""wgf.kernel_sum against a numpy brute force on the same points."""

import numpy as np
import pytest

import wgf


def brute_force(x, y, w, sigma):
    diff = y[:, None, :] - x[None, :, :]
    k = w[None, :] * np.exp(-(diff**2).sum(-1) / (2 * sigma**2))
    return k.sum(1), -(k[:, :, None] * diff).sum(1) / sigma**2


@pytest.fixture
def points():
    rng = np.random.default_rng(11)
    return rng.uniform(-2, 2, size=(400, 2)), rng.uniform(-2, 2, size=(150, 2)), rng.uniform(0.5, 1.5, size=400)


def test_direct_sums_and_gradients_match_numpy(points):
    x, y, w = points
    values, gradients = wgf.kernel_sum(x, y, w, kernel="gaussian:sigma=0.5", method="direct", gradient=True)
    expected_values, expected_gradients = brute_force(x, y, w, 0.5)
    assert values.shape == (150,) and gradients.shape == (150, 2)
    np.testing.assert_allclose(values, expected_values, rtol=1e-12)
    np.testing.assert_allclose(gradients, expected_gradients, rtol=1e-10, atol=1e-12 * np.abs(expected_gradients).max())
    # Weights default to 1; values alone without gradient.
    plain = wgf.kernel_sum(x, y, kernel="gaussian:sigma=0.5", method="direct")
    np.testing.assert_allclose(plain, brute_force(x, y, np.ones(400), 0.5)[0], rtol=1e-12)


def test_the_mesh_meets_its_tolerance(points):
    x, y, w = points
    info = {}
    values = wgf.kernel_sum(x, y, w, kernel="gaussian:sigma=0.5", method="mesh", tolerance=1e-8, info=info)
    expected = brute_force(x, y, w, 0.5)[0]
    assert np.abs(values - expected).max() <= 1e-7 * np.abs(expected).max()
    assert info["method"] == "mesh" and info["N"] == 400 and info["M"] == 150


def test_one_dimensional_vectors_and_the_periodic_box():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 1, 50), rng.uniform(0, 1, 20)
    values = wgf.kernel_sum(x, y, kernel="gaussian:sigma=0.1", method="direct", period=1.0)
    d = y[:, None] - x[None, :]
    d -= np.round(d)  # minimum image in [0, 1)
    np.testing.assert_allclose(values, np.exp(-d**2 / 0.02).sum(1), rtol=1e-12)


def test_bad_input_is_an_error_before_or_from_wgf(points):
    x, y, w = points
    with pytest.raises(ValueError, match="coordinates"):
        wgf.kernel_sum(x, y[:, :1])
    with pytest.raises(ValueError, match="weights"):
        wgf.kernel_sum(x, y, w[:10])
    with pytest.raises(wgf.WGFError, match="unknown kernel 'cauchy'"):
        wgf.kernel_sum(x, y, kernel="cauchy")
    with pytest.raises(wgf.WGFError, match="NaN or infinite"):
        wgf.kernel_sum(np.array([[np.nan, 0.0]]), y)
