#!/usr/bin/python3
"""End-to-end checks of lrm compare (rsa, encode, simulate) and lrm stimuli import kriegeskorte.

Usage: test_compare.py path/to/lrm   (run from the repository root)
"""
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import scipy.io as sio
import xarray as xr
from scipy.stats import spearmanr

lrm = sys.argv[1]
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok   " if ok else "FAIL ") + name + (f" ({detail})" if detail else ""))
    failures += not ok


def run(*args):
    return subprocess.run([lrm, "--quiet", "--seed", "3", *args], capture_output=True, text=True)


k2008 = "neural_data/kriegeskorte2008"
with tempfile.TemporaryDirectory() as tmp:
    # Activations in the README layout for the 92 Kriegeskorte stimuli: two layers, passes 0 and 1.
    acts = os.path.join(tmp, "acts.h5")
    rng = np.random.default_rng(0)
    ids = [f"kriegeskorte92-{i:03d}" for i in range(1, 93)]
    with h5py.File(acts, "w") as f:
        for layer, units in (("conv", 200), ("fc", 50)):
            g = f.create_group(f"activations/{layer}")
            g["stimulus"] = np.array(ids, dtype=object)
            latent = rng.standard_normal((92, 6))
            for p in (0, 1):
                g[f"pass{p}"] = np.maximum(latent @ rng.standard_normal((6, units)) + rng.standard_normal((92, units)), 0).astype(np.float32)

    r = run("stimuli", "import", "kriegeskorte", "--out", os.path.join(tmp, "k92.h5"))
    check("stimuli import kriegeskorte exits 0", r.returncode == 0, r.stderr.strip())
    if r.returncode == 0:
        with h5py.File(os.path.join(tmp, "k92.h5")) as f:
            check("92 images (stimulus, channel, y, x)", f["images"].shape == (92, 3, 175, 175), str(f["images"].shape))

    out = os.path.join(tmp, "rsa.h5")
    r = run("compare", "rsa", "--activations", acts, "--brain", f"{k2008}/92_brainRDMs.mat", "--noise-ceiling",
            "--bootstrap", "100", "--save-rdms", "--out", out)
    check("compare rsa exits 0", r.returncode == 0, r.stderr.strip())
    if r.returncode == 0:
        ds = xr.open_dataset(out, group="rsa", engine="h5netcdf")
        check("r is (model, brain_rdm) 4 x 4", ds.r.dims == ("model", "brain_rdm") and ds.r.shape == (4, 4))
        brain = sio.loadmat(f"{k2008}/92_brainRDMs.mat")["RDMs"]
        subject0 = (brain[0, 0, 0]["RDM"].astype(float) + brain[0, 0, 1]["RDM"].astype(float)) / 2
        with h5py.File(out) as f:
            model_rdm = f["rsa/model_rdm/conv/pass1"][()]
        iu = np.triu_indices(92, 1)
        want = spearmanr(model_rdm[iu], subject0[iu]).correlation
        got = float(ds.r.sel(model="conv/pass1").isel(brain_rdm=0))
        check("r equals scipy spearmanr on the stored RDMs", abs(got - want) < 1e-12, f"{got} vs {want}")
        check("noise ceiling lower < upper", float(ds.noise_ceiling_lower) < float(ds.noise_ceiling_upper))
        with h5py.File(out) as f:
            check("result marked complete", f.attrs.get("complete") == 1)

    r = run("compare", "rsa", "--brain", f"{k2008}/92_brainRDMs.mat", "--noise-ceiling", "--out", os.path.join(tmp, "nc.h5"))
    check("brain-only noise ceiling exits 0", r.returncode == 0, r.stderr.strip())

    r = run("compare", "rsa", "--activations", acts, "--brain", "neural_data/brainio/assy_test_TestMe.nc",
            "--out", os.path.join(tmp, "bad.h5"))
    check("mismatched stimuli: exit 2 naming the missing ids", r.returncode == 2 and "missing in" in r.stderr, r.stderr.strip())
    check("no result file after an error", not os.path.exists(os.path.join(tmp, "bad.h5")))
    r = run("compare", "rsa", "--activations", acts, "--layers", "nope", "--brain", f"{k2008}/92_brainRDMs.mat",
            "--out", os.path.join(tmp, "bad.h5"))
    check("unknown layer: exit 2", r.returncode == 2 and "nope" in r.stderr, r.stderr.strip())
    r = subprocess.run([lrm, "compare", "rsa", "--activations", acts, "--layer", "conv", "--pass", "1", "--brain",
                        f"{k2008}/92_brainRDMs.mat", "--out", os.path.join(tmp, "old.h5")], capture_output=True, text=True)
    check("old --layer/--pass spellings still work, with a note", r.returncode == 0 and "use --layers" in r.stderr
          and "conv/pass1" in r.stdout and "fc/" not in r.stdout, r.stderr.strip())
    r = run("compare", "rsa", "--activations", acts, "--brain", f"{k2008}/92_brainRDMs.mat", "--out", acts)
    check("--out equal to an input: exit 2, one line", r.returncode == 2 and r.stderr.count("\n") == 1
          and "--out" in r.stderr and os.path.getsize(acts) > 0, r.stderr.strip())
    partial = os.path.join(tmp, "partial.h5")
    shutil.copy(acts, partial)
    with h5py.File(partial, "a") as f:
        f.attrs["complete"] = 0
        f["activations"].attrs["rows_complete"] = 60
    r = run("compare", "rsa", "--activations", partial, "--brain", f"{k2008}/92_brainRDMs.mat", "--out",
            os.path.join(tmp, "bad.h5"))
    check("unfinished activation file refused: exit 2 naming --allow-partial",
          r.returncode == 2 and "--allow-partial" in r.stderr, r.stderr.strip())

    sim = os.path.join(tmp, "sim.h5")
    r = run("compare", "simulate", "--activations", acts, "--layer", "conv", "--pass", "1", "--neuroids", "40",
            "--repetitions", "6", "--mean-rate", "2", "--out", sim)
    check("compare simulate exits 0", r.returncode == 0, r.stderr.strip())
    enc = os.path.join(tmp, "enc.h5")
    r = run("compare", "encode", "--activations", acts, "--brain", f"{sim}:/responses", "--pls-components", "10",
            "--splits", "5", "--test-fraction", "0.2", "--out", enc)
    check("compare encode exits 0", r.returncode == 0, r.stderr.strip())
    if r.returncode == 0:
        ds = xr.open_dataset(enc, group="encoding", engine="h5netcdf")
        check("encoding labelled simulated", ds.attrs.get("simulated") == "1")
        truth, est = float(ds.attrs["true_ceiling"]), float(ds.ceiling)
        check("ceiling estimate near the true ceiling", abs(truth - est) < 0.1, f"estimate {est:.3f}, true {truth:.3f}")
        check("r is (model, split, neuroid)", ds.r.dims == ("model", "split", "neuroid") and ds.r.shape == (4, 5, 40))

sys.exit(1 if failures else 0)
