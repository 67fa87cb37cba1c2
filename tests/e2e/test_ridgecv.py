#!/usr/bin/python3
"""End-to-end checks of lrm compare encode --regression ridgecv with a fixed --test-ids split:
held-out r per neuroid equal to scikit-learn RidgeCV(alphas, alpha_per_target=True) fitted on the
same split (a layer with more units than training stimuli, solved in kernel form, and one with
fewer), and bad input (a test id absent, bad --alphas) as one line with exit 2.

Usage: test_ridgecv.py path/to/lrm   (run from the repository root)
"""
import os
import sys

import h5py
import numpy as np
import xarray as xr
from sklearn.linear_model import RidgeCV

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lrm_e2e import Checks, write_lines  # noqa: E402

c = Checks("ridgecv")
check = c.check
run = c.runner("--seed", "3")

rng = np.random.default_rng(5)
n, reps, neuroids = 80, 2, 12
ids = [f"img{i:03d}" for i in range(n)]
latent = rng.standard_normal((n, 6))
features = {}
tmp = c.tmp
acts = os.path.join(tmp, "acts.h5")
with h5py.File(acts, "w") as f:
    for layer, units in (("conv", 300), ("fc", 30)):
        g = f.create_group(f"activations/{layer}")
        g["stimulus"] = np.array(ids, dtype=object)
        x = np.maximum(latent @ rng.standard_normal((6, units)) + rng.standard_normal((n, units)), 0)
        features[layer] = x.astype(np.float32)
        g["pass1"] = features[layer]
noise = np.logspace(-1, 1, neuroids)
signal = latent @ rng.standard_normal((6, neuroids))
y = np.concatenate([signal + noise * rng.standard_normal((n, neuroids)) for _ in range(reps)])
brain = os.path.join(tmp, "brain.nc")
xr.DataArray(y, dims=("presentation", "neuroid"),
             coords={"stimulus_id": ("presentation", ids * reps),
                     "neuroid_id": ("neuroid", [f"v{j}" for j in range(neuroids)])}
             ).to_netcdf(brain, engine="h5netcdf")
test_ids = sorted(rng.choice(ids, 20, replace=False))
test_file = os.path.join(tmp, "shared.txt")
write_lines(test_file, test_ids)

out = os.path.join(tmp, "enc.h5")
alphas = np.logspace(-2, 6, 20)
r = run("compare", "encode", "--activations", acts, "--brain", brain, "--regression", "ridgecv",
        "--alphas", "1e-2:1e6:20", "--test-ids", test_file, "--out", out)
check("encode --regression ridgecv --test-ids exits 0", r.returncode == 0, r.stderr.strip())
if r.returncode == 0:
    ds = xr.open_dataset(out, group="encoding", engine="h5netcdf")
    check("one split", ds.r.sizes["split"] == 1, str(ds.r.sizes))
    mean = y.reshape(reps, n, neuroids).mean(axis=0)
    test = np.array([ids.index(i) for i in test_ids])
    train = np.setdiff1d(np.arange(n), test)
    for layer in ("conv", "fc"):
        x = features[layer].astype(np.float64)
        pred = RidgeCV(alphas=alphas, alpha_per_target=True).fit(x[train], mean[train]).predict(x[test])
        want = np.array([np.corrcoef(pred[:, j], mean[test, j])[0, 1] for j in range(neuroids)])
        got = ds.r.sel(model=f"{layer}/pass1").isel(split=0).values
        err = float(np.max(np.abs(got - want)))
        check(f"{layer}: r per neuroid equals sklearn RidgeCV's within 1e-6", err < 1e-6, f"max |diff| {err:.2e}")

missing = os.path.join(tmp, "missing.txt")
write_lines(missing, test_ids[:5] + ["nosuchimage"])
base = ["compare", "encode", "--activations", acts, "--brain", brain, "--regression", "ridgecv",
        "--out", os.path.join(tmp, "bad.h5")]
c.bad_input("a test id absent", base + ["--test-ids", missing], "nosuchimage")
c.bad_input("bad --alphas", base + ["--alphas", "1:100"], "--alphas")

c.finish()
