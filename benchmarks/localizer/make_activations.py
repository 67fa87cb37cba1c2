#!/usr/bin/python3
"""Benchmark activations in the README "Activations" layout: 400 images (5 categories x 80) x
193,600 units (AlexNet conv1: 64 x 55 x 55), float32, chunked along stimuli.

Units are tuned to categories with varied strength and rectified, as conv units are: about a
third respond to category differences, many are zero for some images (ties), a few are dead.
Written uncompressed: deflate decoding of 310 MB would time HDF5, not the statistics, for both.

Usage: make_activations.py OUT.h5
"""
import sys

import h5py
import numpy as np

CATEGORIES = ["faces", "bodies", "places", "characters", "objects"]
PER_CATEGORY = 80
SHAPE = (64, 55, 55)


def main(path):
    rng = np.random.default_rng(1)
    n_units = int(np.prod(SHAPE))
    category = np.repeat(CATEGORIES, PER_CATEGORY)
    rng.shuffle(category)
    cat_index = np.searchsorted(np.sort(CATEGORIES), category)
    strength = rng.choice([0.0, 0.0, 0.15, 0.5, 1.0], n_units).astype(np.float32)
    tuning = rng.normal(0, 1, (len(CATEGORIES), n_units)).astype(np.float32) * strength
    offset = rng.normal(0.3, 0.5, n_units).astype(np.float32)
    channel, y, x = np.unravel_index(np.arange(n_units), SHAPE)
    with h5py.File(path, "w") as f:
        g = f.create_group("activations/features.0")
        g.attrs["layer"] = "features.0"
        g.attrs["unit_shape"] = ",".join(map(str, SHAPE))
        g["stimulus"] = np.array([f"img{i:04d}" for i in range(len(category))], dtype=object)
        g["stimulus"].make_scale("stimulus")
        g["unit"] = np.arange(n_units, dtype=np.int64)
        g["unit"].make_scale("unit")
        g.create_dataset("category", data=np.array(category, dtype=object), dtype=h5py.string_dtype())
        g["category"].dims[0].attach_scale(g["stimulus"])
        for name, values in (("channel", channel), ("y", y), ("x", x)):
            g[name] = values.astype(np.int64)
            g[name].dims[0].attach_scale(g["unit"])
        d = g.create_dataset("pass1", shape=(len(category), n_units), dtype=np.float32,
                             chunks=(2, n_units))
        for r in range(0, len(category), 40):
            rows = slice(r, r + 40)
            block = tuning[cat_index[rows]] + offset + rng.standard_normal((40, n_units), np.float32)
            block = np.maximum(block, 0)
            block[:, :500] = 0  # dead units
            d[rows] = block
        d.dims[0].attach_scale(g["stimulus"])
        d.dims[1].attach_scale(g["unit"])
        d.attrs["coordinates"] = "category"


if __name__ == "__main__":
    main(sys.argv[1])
