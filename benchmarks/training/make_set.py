#!/usr/bin/env python3
"""Writes a generated labelled set of N 28×28 grey images in the suite's HDF5 layout (/images
uint8 N×28×28 in chunks of 1,024 rows with deflate, as image sets are stored, and /stimulus,
/category, /split): ten categories, each a bright bar at its own row over seeded noise.
Usage: make_set.py N out.h5"""
import sys

import h5py
import numpy as np

n, out = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
labels = rng.integers(0, 10, size=n)
with h5py.File(out, "w") as f:
    images = f.create_dataset("images", shape=(n, 28, 28), dtype=np.uint8, chunks=(min(n, 1024), 28, 28),
                              compression="gzip", compression_opts=1, shuffle=True)
    for first in range(0, n, 10_000):
        last = min(n, first + 10_000)
        block = rng.integers(0, 60, size=(last - first, 28, 28)).astype(np.uint8)
        for k, label in enumerate(labels[first:last]):
            block[k, 2 + 2 * label:4 + 2 * label, 4:24] = 255
        images[first:last] = block
    text = h5py.string_dtype()
    f.create_dataset("stimulus", data=[f"img-{i}" for i in range(n)], dtype=text)
    f.create_dataset("category", data=[str(l) for l in labels], dtype=text)
    f.create_dataset("split", data=["train"] * n, dtype=text)
    f.attrs["complete"] = 1
