#!/usr/bin/python3
"""Synthetic inputs for benchmarks/mpi/run.sh: a localizer activation file (stimuli x units, 5
categories, one layer and pass, row chunks as lrm extract writes) and a comparison activation file
(4 layers x 2 passes over the first 400 stimuli) for compare encode.

Usage: make_data.py FOLDER [STIMULI] [UNITS]"""
import os
import sys

import h5py
import numpy as np

folder = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
units = int(sys.argv[3]) if len(sys.argv) > 3 else 60000
os.makedirs(folder, exist_ok=True)
rng = np.random.default_rng(0)
ids = np.array([f"s{i:05d}" for i in range(n)], dtype=object)
category = np.array(["faces", "bodies", "places", "objects", "scrambled"] * (n // 5 + 1),
                    dtype=object)[:n]

with h5py.File(os.path.join(folder, "localize.h5"), "w") as f:
    g = f.create_group("activations/layer")
    g["stimulus"], g["category"] = ids, category
    d = g.create_dataset("pass0", (n, units), "f4", chunks=(min(n, 64), units))
    for start in range(0, n, 64):
        rows = min(64, n - start)
        d[start:start + rows] = rng.standard_normal((rows, units), dtype=np.float32)

n = min(n, 400)
ids, category = ids[:n], category[:n]
with h5py.File(os.path.join(folder, "compare.h5"), "w") as f:
    latent = rng.standard_normal((n, 20))
    for layer, width in (("a", 4000), ("b", 3000), ("c", 2000), ("d", 1000)):
        g = f.create_group(f"activations/{layer}")
        g["stimulus"], g["category"] = ids, category
        for p in (0, 1):
            g[f"pass{p}"] = (latent @ rng.standard_normal((20, width)) +
                             rng.standard_normal((n, width))).astype(np.float32)
