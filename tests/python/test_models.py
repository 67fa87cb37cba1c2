"""Models from Python against the PyTorch reference the C++ parity test uses (an MNIST-sized LRM3
with the published checkpoint layout): logits (the output of classifier.6) of 3 passes, plain and
steered, through load_model(...).extract(...)."""
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

import lrmsuite
from conftest import BUILD_PACKAGE, FIXTURES

MODEL = os.path.join(FIXTURES, "model")
pytest.importorskip("lrmsuite._torch", reason="built without LibTorch")


def parity(name):
    with h5py.File(os.path.join(MODEL, "mnist_lrm3_parity.h5")) as f:
        return f[name][:]


@pytest.fixture(scope="module")
def model():
    return lrmsuite.load_model("mnist-lrm", weights=os.path.join(MODEL, "mnist_lrm3.pth"))


@pytest.mark.parametrize("run,steering", [
    ("plain", None),
    ("steered", {"source": "classifier.6", "vector": "v", "strength": 3.0}),
    ("steered_pair", {"source": "classifier.6", "vector": "vb", "strength": (2.0, 3.0),
                      "mix": 0.7, "first_pass": True}),
])
def test_extract_matches_pytorch(model, run, steering):
    if steering is not None:
        steering = dict(steering, vector=parity(steering["vector"]))
    out = model.extract(parity("x"), layers=["classifier.6", "features.8"], passes=[0, 1, 2],
                        steering=steering, batch_size=3)  # batches of 3 and 1
    logits = out["classifier.6"]
    assert logits["pass1"].dims == ("stimulus", "unit") and logits.attrs["output"] == "output"
    for k in range(3):
        np.testing.assert_allclose(logits[f"pass{k}"], parity(f"logits/{run}/pass{k}"), atol=1e-5)
    conv = out["features.8"]
    assert conv.attrs["unit_shape"].count(",") == 2
    assert conv.dims["unit"] == int(np.prod([int(s) for s in conv.attrs["unit_shape"].split(",")]))


def test_bad_model_input_is_a_value_error(model):
    with pytest.raises(ValueError, match="features.99"):
        model.extract(parity("x"), layers=["features.99"])
    with pytest.raises(ValueError, match="^steering source 'features.1'"):
        model.extract(parity("x"), layers=["classifier.6"], passes=[1],
                      steering={"source": "features.1", "vector": np.ones(10)})
    with pytest.raises(ValueError):
        lrmsuite.load_model("no-such-model")


def test_import_does_not_load_libtorch():
    code = "import sys, lrmsuite; assert 'lrmsuite._torch' not in sys.modules, 'loaded'"
    env = dict(os.environ)
    env.setdefault("PYTHONPATH", BUILD_PACKAGE)
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_extract_a_stimulus_set(model, tmp_path):
    """A folder set of category folders, preprocessed with the model's preset (mnist: grey,
    normalised), labelled with its stimulus ids and categories."""
    import shutil

    for category in ("a", "b"):
        (tmp_path / category).mkdir()
        for i in range(3):  # one size: the mnist preset neither resizes nor crops
            shutil.copy(os.path.join(FIXTURES, "stimuli", "photo_rgb.jpg"),
                        tmp_path / category / f"photo{i}.jpg")
    out = model.extract(str(tmp_path), layers="classifier.6", passes=[0, 1])
    ds = out["classifier.6"]
    assert model.preprocess == "mnist"
    assert ds.dims["stimulus"] == 6 and list(ds["category"].values) == ["a"] * 3 + ["b"] * 3
    assert ds["pass1"].shape == (6, 10) and np.isfinite(ds["pass1"]).all()
