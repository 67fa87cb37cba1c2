"""Models from Python: lrmsuite.load_model("alexnet-lrm3", weights=...).extract(...) gives the
arrays `lrm extract` writes, as xarray Datasets in memory. Imports LibTorch (lrmsuite._torch) on
first use only."""
import numpy as np

from . import _core
from ._labels import threads as _threads
from ._labels import xr


def load_model(name, weights=None, seed=0):
    """A preset or backbone spec (e.g. "alexnet-lrm3", "mnist-lrm") with `weights`: a suite
    checkpoint, a published .pth, a backbone's own state dict, or None for random weights from
    `seed`."""
    from . import _torch

    return Model(_torch.load_model(name, weights or "", int(seed)))


class Model:
    """A loaded model: `layers()` lists what extract can record, `sources` the steering sources,
    `preprocess` the preprocessing preset a stimulus set is prepared with."""

    def __init__(self, native):
        self._native = native

    description = property(lambda self: self._native.description)
    preprocess = property(lambda self: self._native.preprocess)
    sources = property(lambda self: self._native.sources)
    meta = property(lambda self: self._native.meta)

    def layers(self):
        return self._native.layers()

    def __repr__(self):
        return f"Model({self.description!r})"

    def extract(self, images, layers="all", passes=(0,), steering=None, batch_size=32,
                threads=None):
        """Activations of `layers` (names, "all", "<dest>:pre", "<dest>:F") in `passes`.

        images: a stimulus set spec (folder, .csv, .h5 as `lrm extract --stimuli` takes,
        preprocessed with the model's preset), or float32 tensors (image, channel, y, x) already
        preprocessed. steering: None or a dict with source (e.g. "classifier.6"), vector (D, or
        one row per image), strength (α, or (α−, α+)), mix (default 1) and first_pass (default
        False). Returns {layer name: Dataset} as /activations/<layer>: pass<k> (stimulus, unit)
        with coordinates stimulus (and category for a set), unit, channel, y, x."""
        from . import _torch

        layers = [layers] if isinstance(layers, str) else list(layers)
        passes = [int(passes)] if np.isscalar(passes) else [int(p) for p in passes]
        steer = None if steering is None else _steering(_torch, steering)
        n_threads = _threads(threads) or _core.get_threads()
        ids = categories = None
        if isinstance(images, str):
            arrays, ids, categories = self._native.extract_set(images, layers, passes, steer,
                                                               int(batch_size), n_threads)
        else:
            x = np.asarray(images, dtype=np.float32)
            if x.ndim == 3:
                x = x[:, None]
            arrays = self._native.extract_arrays(x, layers, passes, steer, int(batch_size),
                                                 n_threads)
        return {name: _layer_dataset(name, layer, output, per_pass, passes, ids, categories)
                for name, layer, output, per_pass in arrays}


def _steering(torch_module, s):
    strength = s.get("strength", 1.0)
    neg, pos = (strength, strength) if np.isscalar(strength) else strength
    vector = np.asarray(s["vector"], dtype=np.float32)
    return torch_module.Steering(s["source"], vector.reshape(1, -1) if vector.ndim == 1 else vector,
                                 float(neg), float(pos), float(s.get("mix", 1.0)),
                                 bool(s.get("first_pass", False)))


def _layer_dataset(name, layer, output, per_pass, passes, ids, categories):
    n = per_pass[0].shape[0]
    unit_shape = per_pass[0].shape[1:]
    n_units = int(np.prod(unit_shape))
    full = tuple(unit_shape) + (1,) * (3 - len(unit_shape))
    channel, y, x = np.unravel_index(np.arange(n_units), full)
    coords = {"stimulus": ids if ids is not None else np.arange(n), "unit": np.arange(n_units),
              "channel": ("unit", channel), "y": ("unit", y), "x": ("unit", x)}
    if categories is not None:
        coords["category"] = ("stimulus", categories)
    data = {f"pass{p}": (("stimulus", "unit"), a.reshape(n, -1)) for p, a in zip(passes, per_pass)}
    return xr().Dataset(data, coords=coords,
                        attrs={"layer": layer, "output": output,
                               "unit_shape": ",".join(str(s) for s in unit_shape)})
