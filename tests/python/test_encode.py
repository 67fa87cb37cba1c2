"""encode and ceiling: the PLS fits against scikit-learn's PLSRegression predictions of the PLS
fixture the C++ tests use, the whole metric against scikit-learn and scipy on the suite's own
splits, and the ceiling against the true reliability of simulated recordings."""
import os

import h5py
import numpy as np
import pytest
import xarray as xr
from scipy.stats import pearsonr
from sklearn.cross_decomposition import PLSRegression
from sklearn.linear_model import LinearRegression

import lrmsuite
from conftest import FIXTURES
from lrmsuite import _core

PLS = os.path.join(FIXTURES, "compare", "pls_fixture.h5")


def test_pls_matches_sklearn_fixture():
    with h5py.File(PLS) as f:
        for name, g in f.items():
            x, y = g["x"][:], g["y"][:]
            trains, tests, preds = g["train"][:], g["test"][:], g["prediction"][:]
            if trains.ndim == 1:
                trains, tests, preds = trains[None], tests[None], preds[None]
            for train, test, expected in zip(trains, tests, preds):
                got = _core.pls_predict(x, y, list(train), list(test),
                                        int(g.attrs["n_components"]))
                scale = max(1.0, np.abs(expected).max())
                np.testing.assert_allclose(got, expected, atol=1e-9 * scale, err_msg=name)


def data(n=120, p=60, q=8, seed=3):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 5))
    x = np.maximum(z @ rng.normal(size=(5, p)) + rng.normal(size=(n, p)) + 1, 0).astype(np.float32)
    y = z @ rng.normal(size=(5, q)) + 0.5 * rng.normal(size=(n, q))
    categories = np.array(["a", "b", "c"])[np.arange(n) % 3]
    return x, y, categories


@pytest.mark.parametrize("regression", ["pls", "ols"])
def test_encode_matches_sklearn_on_the_same_splits(regression):
    x, y, categories = data()
    ds = lrmsuite.encode(x, y, regression=regression, splits=4, pls_components=10, seed=7,
                         categories=categories)
    assert ds["r"].dims == ("split", "neuroid") and ds["r"].shape == (4, 8)
    splits = _core.splits(len(x), list(categories), 4, 0.1, 7)
    for s, (train, test) in enumerate(splits):
        model = (PLSRegression(n_components=10, scale=False) if regression == "pls"
                 else LinearRegression())
        model.fit(x[train].astype(np.float64), y[train])
        pred = model.predict(x[test].astype(np.float64))
        r = [pearsonr(pred[:, j], y[test, j])[0] for j in range(y.shape[1])]
        np.testing.assert_allclose(ds["r"][s], r, atol=1e-8)
    medians = np.median(ds["r"].values, axis=1)
    assert float(ds["score_raw"]) == pytest.approx(medians.mean(), abs=1e-12)
    assert float(ds["score_error"]) == pytest.approx(medians.std() / 2, abs=1e-12)
    assert ds.attrs["stratified"] == 1


def test_encode_ceiled_scores_and_errors():
    x, y, categories = data()
    ds = lrmsuite.encode(x, y, splits=3, pls_components=5, ceiling=0.8)
    raw = float(ds["score_raw"])
    assert float(ds["score_ceiled"]) == pytest.approx(raw / 0.8)
    assert float(ds["explained_variance_ceiled"]) == pytest.approx(raw ** 2 / 0.8)
    with pytest.raises(ValueError, match=r"^pls_components: the layer has 60 features"):
        lrmsuite.encode(x, y, pls_components=100)
    with pytest.raises(ValueError, match=r"^regression: "):
        lrmsuite.encode(x, y, regression="lasso")
    with pytest.raises(ValueError, match=r"^splits: must be at least 1"):
        lrmsuite.encode(x, y, splits=0)


def simulated(n_stimuli=300, neuroids=40, repetitions=6, seed=5):
    """Poisson counts around per-stimulus rates, whose true split-half reliability is
    var(rate) / (var(rate) + mean(rate) / repetitions) per neuroid."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(4, 1.5, size=(n_stimuli, neuroids))
    counts = rng.poisson(np.repeat(rate, repetitions, axis=0)).astype(np.float64)
    stimulus = np.repeat([f"s{i}" for i in range(n_stimuli)], repetitions)
    true = rate.var(0) / (rate.var(0) + rate.mean(0) / repetitions)
    return counts, stimulus, np.median(true)


def test_ceiling_estimates_the_true_reliability():
    counts, stimulus, true = simulated()
    da = xr.DataArray(counts, dims=("presentation", "neuroid"),
                      coords={"stimulus_id": ("presentation", stimulus)})
    c = lrmsuite.ceiling(da, halvings=10, seed=0)
    assert float(c["ceiling"]) == pytest.approx(true, abs=0.03)
    assert c["ceiling_per_halving"].shape == (10,) and c["ceiling_per_neuroid"].shape == (40,)
    assert (c["repetitions"] == 6).all()
    # The same from a plain array with stimulus labels.
    c2 = lrmsuite.ceiling(counts, halvings=10, seed=0, stimulus=stimulus)
    assert float(c2["ceiling"]) == float(c["ceiling"])


def test_ceiling_needs_repetitions():
    with pytest.raises(ValueError, match="repeated presentations of at least 3 stimuli"):
        lrmsuite.ceiling(np.ones((5, 2)), stimulus=["a", "b", "c", "d", "e"])


def test_encode_groups_recordings_and_joins_by_stimulus_id():
    """Recordings with repetitions are averaged and joined by id like `lrm compare encode`: the
    same result as the means in the features' order."""
    counts, stimulus, _ = simulated(n_stimuli=90, neuroids=6, repetitions=4)
    rng = np.random.default_rng(2)
    ids = np.array([f"s{i}" for i in range(90)])
    order = rng.permutation(90)  # the features list the stimuli in another order
    means = counts.reshape(90, 4, 6).mean(1)
    x = (means[order] @ rng.normal(size=(6, 30)) + rng.normal(size=(90, 30))).astype(np.float32)
    features = xr.DataArray(x, dims=("stimulus", "unit"), coords={"stimulus": ids[order]})
    recordings = xr.DataArray(counts, dims=("presentation", "neuroid"),
                              coords={"stimulus_id": ("presentation", stimulus),
                                      "neuroid": [f"n{j}" for j in range(6)]})
    joined = lrmsuite.encode(features, recordings, splits=3, pls_components=5)
    inverse = np.argsort(order)  # the recordings' stimulus order
    aligned = lrmsuite.encode(x[inverse], means, splits=3, pls_components=5)
    np.testing.assert_allclose(joined["r"], aligned["r"], atol=1e-10)
    assert list(joined["neuroid"].values) == [f"n{j}" for j in range(6)]
    with pytest.raises(ValueError, match="missing|not|ids"):
        lrmsuite.encode(features[:80], recordings, splits=3, pls_components=5)
