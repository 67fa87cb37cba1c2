"""rdm, compare_rdms and noise_ceiling against the scipy/numpy values of the RSA fixture (the real
Kriegeskorte 2008 RDMs) that the C++ tests use."""
import os

import h5py
import numpy as np
import pytest
import scipy.io as sio
from scipy.spatial.distance import squareform

import lrmsuite
from conftest import FIXTURES, ROOT

RSA = os.path.join(FIXTURES, "compare", "rsa_fixture.h5")
K92 = os.path.join(ROOT, "neural_data", "kriegeskorte2008")


def brain_rdms():
    brain = sio.loadmat(os.path.join(K92, "92_brainRDMs.mat"))["RDMs"]
    subjects = np.stack([(brain[0, s, 0]["RDM"].astype(np.float64) +
                          brain[0, s, 1]["RDM"].astype(np.float64)) / 2 for s in range(4)])
    fig1 = sio.loadmat(os.path.join(K92, "Kriegeskorte_Neuron2008_supplementalData.mat"))
    monkey = squareform(fig1["RDMs_mIT_hIT_fig1"][0, 0]["RDM"][0].astype(np.float64))
    return subjects, monkey


@pytest.mark.parametrize("method", ["correlation", "euclidean"])
def test_rdm_matches_numpy(method):
    with h5py.File(RSA) as f:
        x, expected = f["features"][:], f[f"rdm_{method}"][:]
    before = x.copy()
    r = lrmsuite.rdm(x, method=method)
    assert r.dims == ("stimulus", "stimulus_b") and r.name == "rdm"
    np.testing.assert_allclose(r.values, expected, atol=2e-6)
    np.testing.assert_array_equal(x, before)  # the caller's array is left alone by default


def test_rdm_overwrite_input_uses_the_callers_array():
    with h5py.File(RSA) as f:
        x, expected = f["features"][:], f["rdm_correlation"][:]
    r = lrmsuite.rdm(x, overwrite_input=True)
    np.testing.assert_allclose(r.values, expected, atol=2e-6)
    np.testing.assert_allclose(x.mean(axis=1), 0, atol=1e-6)  # centred in place, not copied


def test_crossvalidated_is_unbiased_for_equal_patterns():
    rng = np.random.default_rng(1)
    reps = rng.normal(size=(40, 10, 20))  # 40 repetitions of pure noise around equal patterns
    r = lrmsuite.rdm(reps, method="crossvalidated")
    assert abs(float(np.mean(squareform(r.values, checks=False)))) < 0.05


@pytest.mark.parametrize("comparison",
                         ["spearman", "pearson", "kendall_tau_a", "kendall_tau_b", "rho_a",
                          "cosine"])
def test_compare_rdms_matches_scipy(comparison):
    subjects, monkey = brain_rdms()
    with h5py.File(RSA) as f:
        expected = [f[f"subject{s}_vs_monkey/{comparison}"][()] for s in range(4)]
    assert lrmsuite.compare_rdms(subjects[0], monkey, comparison) == pytest.approx(expected[0],
                                                                                   abs=1e-10)
    r = lrmsuite.compare_rdms(monkey, subjects, comparison)
    assert r.dims == ("brain_rdm",)
    np.testing.assert_allclose(r.values, expected, atol=1e-10)


@pytest.mark.parametrize("comparison", ["spearman", "pearson", "kendall_tau_a"])
def test_noise_ceiling_matches_numpy(comparison):
    subjects, _ = brain_rdms()
    nc = lrmsuite.noise_ceiling(subjects, comparison, pool="mean")  # the fixture's plain mean
    with h5py.File(RSA) as f:
        assert float(nc["noise_ceiling_upper"]) == pytest.approx(
            f[f"noise_ceiling/{comparison}/upper"][()], abs=1e-10)
        assert float(nc["noise_ceiling_lower"]) == pytest.approx(
            f[f"noise_ceiling/{comparison}/lower"][()], abs=1e-10)
    assert nc["noise_ceiling_upper_per_rdm"].dims == ("brain_rdm",)


def test_bad_rdm_input():
    with pytest.raises(ValueError, match=r"^features: stimulus row 1 "):
        lrmsuite.rdm(np.array([[1, 2, 3], [5, 5, 5], [3, 1, 2]], np.float32))
    with pytest.raises(ValueError, match=r"^comparison: "):
        lrmsuite.compare_rdms(np.eye(4), np.eye(4), "spearmann")
    with pytest.raises(ValueError, match=r"^method: "):
        lrmsuite.rdm(np.ones((4, 3)), method="cityblock")


@pytest.mark.parametrize("noise", ["measurements", "residuals", "identity"])
def test_crossnobis_matches_rsatoolbox(noise):
    with h5py.File(os.path.join(FIXTURES, "compare", "rsa_parity", "rsa_parity.h5")) as f:
        g = f["crossnobis"]
        x, cond, run = g["measurements"][:], g["condition"][:], g["run"][:]
        expected = g[f"rdm_{noise}"][:]
    r = lrmsuite.rdm(x, method="crossnobis", run=run, stimulus=cond, noise=noise)
    np.testing.assert_allclose(r.values, expected, atol=1e-9)


def test_crossnobis_needs_two_runs():
    with pytest.raises(ValueError, match="2 or more runs"):
        lrmsuite.rdm(np.ones((1, 3, 4)), method="crossnobis")
