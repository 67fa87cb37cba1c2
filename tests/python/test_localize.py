"""lrmsuite.localize against scipy.stats.ttest_ind + statsmodels multipletests (the fixture the
C++ parity test uses), on the activation file read into xarray as a user would."""
import os

import h5py
import numpy as np
import pytest
import xarray as xr

import lrmsuite
from conftest import FIXTURES

ACTS = os.path.join(FIXTURES, "localizer", "activations.h5")
EXPECTED = os.path.join(FIXTURES, "localizer", "expected.h5")


def activations():
    """pass1 of the layer group with the group's unit coordinates, as a user opens it."""
    layer = xr.open_dataset(ACTS, group="/activations/conv", engine="h5netcdf").load()
    return layer["pass1"].assign_coords({c: layer[c] for c in ("channel", "y", "x")})


@pytest.mark.parametrize("test", ["student", "welch"])
@pytest.mark.parametrize("fdr", ["by", "bh"])
def test_matches_scipy_and_statsmodels(test, fdr):
    acts = activations()
    ds = lrmsuite.localize(acts, target="faces", test=test, fdr=fdr, q=0.05)
    with h5py.File(EXPECTED) as f:
        order = [c.decode() for c in f["comparison"][:]]
        g = f[test]
        mine = ds.sel(comparison=order)
        np.testing.assert_allclose(mine["t"], g["t"][:], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(mine["p_adjusted"], g[f"p_adjusted_{fdr}"][:], rtol=1e-10,
                                   atol=1e-14)
        np.testing.assert_array_equal(ds["selective"], g[f"selective_{fdr}"][:])
    assert ds.attrs["n_selective"] == int(ds["selective"].sum())
    assert ds.dims["unit"] == 2000 and list(ds["t"].dims) == ["comparison", "unit"]
    # The unit coordinates of the activation file come along, so a mask maps back to the map.
    np.testing.assert_array_equal(ds["channel"], acts["channel"])
    assert int(ds["nonfinite"].sum()) == ds.attrs["n_nonfinite"] == 6


def test_numpy_input_and_all_targets():
    acts = activations()
    out = lrmsuite.localize(acts.values, acts["category"].values)
    assert sorted(out) == ["bodies", "faces", "objects", "places"]
    ref = lrmsuite.localize(acts, target="faces")
    xr.testing.assert_identical(out["faces"]["t"].drop_vars(["channel", "y", "x"], errors="ignore"),
                                ref["t"].drop_vars(["channel", "y", "x"]))


def test_4d_activations_get_channel_y_x():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3, 2, 2)).astype(np.float32)
    ds = lrmsuite.localize(x, ["a"] * 6 + ["b"] * 6, target="a")
    assert ds.dims["unit"] == 12
    np.testing.assert_array_equal(ds["channel"], np.repeat(np.arange(3), 4))


def test_bad_input_is_a_value_error_with_the_cli_line():
    acts = activations()
    with pytest.raises(ValueError, match=r"^activations: target category 'cars' is not among"):
        lrmsuite.localize(acts, target="cars")
    with pytest.raises(ValueError, match=r"^test: "):
        lrmsuite.localize(acts, target="faces", test="paired")
    with pytest.raises(ValueError, match=r"^q: "):
        lrmsuite.localize(acts, target="faces", q=2)
    with pytest.raises(ValueError, match=r"^activations: 3 category labels for 34 stimuli"):
        lrmsuite.localize(acts.values, ["a", "b", "c"])
    with pytest.raises(ValueError, match="needs at least 2 per category|at least 2"):
        lrmsuite.localize(np.ones((3, 4), np.float32), ["a", "a", "b"])
