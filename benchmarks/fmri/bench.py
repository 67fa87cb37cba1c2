#!/usr/bin/python3
"""Voxelwise ridge with a penalty per voxel: lrm compare encode --regression ridgecv against
scikit-learn RidgeCV(alphas, alpha_per_target=True) on the same simulated data, split and threads.

Usage: bench.py path/to/lrm [stimuli units voxels]   (threads from OMP_NUM_THREADS, set by run.sh)
Prints both wall times, their ratio, lrm's peak memory, the load average, and the largest
difference between the two runs' held-out r.
"""
import os
import resource
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
import xarray as xr
from sklearn.linear_model import RidgeCV

lrm = sys.argv[1]
n, p, q = (int(v) for v in sys.argv[2:5]) if len(sys.argv) > 4 else (2000, 4096, 2000)
rng = np.random.default_rng(0)
ids = [f"img{i:05d}" for i in range(n)]
latent = rng.standard_normal((n, 20))
x = np.maximum(latent @ rng.standard_normal((20, p)) + rng.standard_normal((n, p)), 0).astype(np.float32)
y = latent @ rng.standard_normal((20, q)) + np.logspace(-0.5, 1, q) * rng.standard_normal((2, n, q))
test_ids = ids[: n // 10]
alphas = np.logspace(-2, 6, 20)
with tempfile.TemporaryDirectory() as tmp:
    with h5py.File(os.path.join(tmp, "acts.h5"), "w") as f:
        g = f.create_group("activations/layer")
        g["stimulus"] = np.array(ids, dtype=object)
        g["pass0"] = x
    xr.DataArray(y.reshape(2 * n, q), dims=("presentation", "neuroid"),
                 coords={"stimulus_id": ("presentation", ids * 2)}).to_netcdf(os.path.join(tmp, "brain.nc"),
                                                                             engine="h5netcdf")
    with open(os.path.join(tmp, "test.txt"), "w") as f:
        f.write("\n".join(test_ids) + "\n")
    start = time.perf_counter()
    r = subprocess.run([lrm, "--quiet", "compare", "encode", "--activations", os.path.join(tmp, "acts.h5"), "--brain",
                        os.path.join(tmp, "brain.nc"), "--regression", "ridgecv", "--alphas", "1e-2:1e6:20",
                        "--test-ids", os.path.join(tmp, "test.txt"), "--halvings", "1", "--out",
                        os.path.join(tmp, "enc.h5")], capture_output=True, text=True)
    t_lrm = time.perf_counter() - start
    if r.returncode:
        sys.exit(r.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    got = xr.open_dataset(os.path.join(tmp, "enc.h5"), group="encoding", engine="h5netcdf").r.values[0, 0]
    mean = y.mean(axis=0)
    test = np.arange(n // 10)
    train = np.arange(n // 10, n)
    start = time.perf_counter()
    pred = RidgeCV(alphas=alphas, alpha_per_target=True).fit(x[train].astype(np.float64), mean[train]).predict(
        x[test].astype(np.float64))
    t_sk = time.perf_counter() - start
    pc, mc = pred - pred.mean(0), mean[test] - mean[test].mean(0)
    want = (pc * mc).sum(0) / np.sqrt((pc**2).sum(0) * (mc**2).sum(0))
    print(f"{n} stimuli ({len(train)} train), {p} units, {q} voxels, 20 penalties, "
          f"{os.environ.get('OMP_NUM_THREADS', '?')} threads, load average {os.getloadavg()[0]:.1f}")
    print(f"lrm ridgecv {t_lrm:.1f} s (whole command: reading, ceiling, writing), peak {peak:.2f} GiB; "
          f"sklearn RidgeCV fit+predict {t_sk:.1f} s; ratio sklearn/lrm {t_sk / t_lrm:.2f}")
    print(f"max |r difference| {np.max(np.abs(got - want)):.2e}")
