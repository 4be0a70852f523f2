"""wgf.distance against closed forms computed here with numpy."""

import numpy as np
import pytest

import wgf


def test_one_dimensional_w2_is_the_sorted_matching_and_sliced_agrees():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=400), rng.normal(size=400) * 2 + 1
    expected = np.sqrt(np.mean((np.sort(x) - np.sort(y)) ** 2))
    assert abs(wgf.distance(x, y, "w2") - expected) <= 1e-13 * expected
    projections = np.array([[1.0, -1.0]])
    assert abs(wgf.distance(x, y, "sliced-w2", projections=projections) - expected) <= 1e-13 * expected


def test_bures_energy_and_knn_against_numpy():
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(300, 2)), rng.normal(size=(200, 2)) + [1.0, 0.0]
    a = rng.uniform(0.5, 1.5, 300)
    # Bures with commuting (here: diagonalised by hand) covariances is checked in Swift; here the
    # translation part: equal covariances give |m₁ − m₂|.
    shifted = x + [0.3, -0.4]
    assert abs(wgf.distance(x, shifted, "bures-w2") - 0.5) <= 1e-12
    # Energy distance as its double sum, with weights.
    wa, wb = a / a.sum(), np.ones(200) / 200

    def mean_distance(p, wp, q, wq):
        return wp @ np.sqrt(((p[:, None, :] - q[None, :, :]) ** 2).sum(-1)) @ wq

    expected = 2 * mean_distance(x, wa, y, wb) - mean_distance(x, wa, x, wa) - mean_distance(y, wb, y, wb)
    info = {}
    assert abs(wgf.distance(x, y, "energy-distance", a=a, info=info) - expected) <= 1e-12 * expected
    assert info["N"] == 300 and info["M"] == 200
    with pytest.raises(ValueError, match="metric"):
        wgf.distance(x, y, "kl")
    with pytest.raises(wgf.WGFError, match="kl-knn needs"):
        wgf.distance(x[:3], y, "kl-knn", neighbours=5)


def test_sinkhorn_two_point_closed_form():
    # δ₀ against ½δ₁ + ½δ₃ (1-D): the only coupling with δ₀ is the product (OT_ε = 5); the pair
    # with itself couples by [[p, ½ − p], [½ − p, p]], p = ½σ(4/ε): S_ε = 5 − ½ [8(½ − p) + ε KL].
    eps = 0.7
    p = 0.5 / (1 + np.exp(-4 / eps))
    kl = 2 * p * np.log(4 * p) + 2 * (0.5 - p) * np.log(4 * (0.5 - p))
    expected = 5 - 0.5 * (8 * (0.5 - p) + eps * kl)
    assert abs(wgf.distance([0.0], [3.0, 1.0], "sinkhorn", epsilon=eps) - expected) <= 1e-12
    with pytest.raises(wgf.WGFError, match="--epsilon must be"):
        wgf.distance([0.0], [3.0, 1.0], "sinkhorn", epsilon=-1)
