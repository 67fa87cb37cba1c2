#!/usr/bin/python3
"""End-to-end checks of lrm compare encode on NSD-style fMRI data written by nibabel: 4-D NIfTI
betas with a trial table (repeats, sessions), a binary and a labelled ROI mask, bad voxels (NaN,
constant) counted and left out, --zscore-by session, --ncsnr-min, --write-nifti score maps in the
betas' grid and affine (NaN outside the ROIs); and bad input (volume count, another grid, missing
test ids, all-NaN voxels) as one line with exit 2.

Usage: test_nsd.py path/to/lrm   (run from the repository root)
"""
import os
import sys

import h5py
import nibabel as nib
import numpy as np
import xarray as xr
from sklearn.linear_model import RidgeCV

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lrm_e2e import Checks, write_activations, write_lines  # noqa: E402
import nsd_inputs as N  # noqa: E402

def scores_of(path):
    with h5py.File(path) as f:
        return f["encoding/r"][()]


c = Checks("nsd")
check = c.check
run = c.runner("--seed", "3")

rng = np.random.default_rng(14)
n_stim, reps, shape = 60, 2, (6, 5, 4)
ids = N.nsd_ids(n_stim)
affine = np.array([[-1.8, 0, 0, 40], [0, 1.8, 0, -60], [0, 0, 1.8, -20], [0, 0, 0, 1.0]])
latent = rng.standard_normal((n_stim, 5))
p = c.path
x = np.maximum(latent @ rng.standard_normal((5, 120)) + rng.standard_normal((n_stim, 120)), 0).astype(np.float32)
write_activations(p("acts.h5"), {"conv/pass1": x}, ids)
n_vox = int(np.prod(shape))
signal = latent @ rng.standard_normal((5, n_vox))
order, betas = N.repeated_trials(rng, signal, reps)
sessions = np.repeat([1, 2], n_stim)
betas[sessions == 2] = betas[sessions == 2] * 3 + 7  # a session offset and scale
with_bad = betas.copy()
with_bad[:, 0], with_bad[:, 1] = np.nan, 5.0  # bad voxels (the grid's first two): NaN and constant
N.write_betas(p("betas.nii.gz"), with_bad, shape, affine)
N.write_trials(p("trials.csv"), ids, order, sessions)
mask = np.zeros(shape, np.uint8)
mask[:3] = 1
N.write_nifti(p("roi.nii.gz"), mask, affine)
labels = np.zeros(shape, np.int16)
labels[3:, :, :2] = 7
N.write_nifti(p("labels.nii.gz"), labels, affine)
with open(p("labels.csv"), "w") as f:
    f.write("label,name\n7,PPA\n3,FFA\n")
test_ids = sorted(rng.choice(ids, 15, replace=False))
write_lines(p("shared.txt"), test_ids)

common = ["compare", "encode", "--activations", p("acts.h5"), "--brain", p("betas.nii.gz"), "--trials",
          p("trials.csv"), "--regression", "ridgecv", "--test-ids", p("shared.txt")]
r = run(*common, "--roi", p("roi.nii.gz"), "--roi", p("labels.nii.gz") + ":PPA", "--roi-labels",
        p("labels.csv"), "--zscore-by", "session", "--write-nifti", p("maps"), "--out", p("enc.h5"))
check("encode from NIfTI betas exits 0", r.returncode == 0, r.stderr.strip())
in_roi = (mask > 0) | (labels == 7)
if r.returncode == 0:
    with h5py.File(p("enc.h5")) as f:
        g = f["encoding"]
        check("bad voxels counted (NaN and constant)", int(g.attrs["bad_voxels"]) == 2, str(dict(g.attrs)))
        check("voxels in the ROIs", int(g.attrs["roi_voxels"]) == int(in_roi.sum()))
    ds = xr.open_dataset(p("enc.h5"), group="encoding", engine="h5netcdf")
    # The reference: betas z-scored per session, repeats averaged, RidgeCV on the fixed split.
    z = betas.copy()
    for s in (1, 2):
        z[sessions == s] = (z[sessions == s] - z[sessions == s].mean(0)) / z[sessions == s].std(0)
    mean = np.zeros((n_stim, n_vox))
    np.add.at(mean, order, z)
    mean /= reps
    flat = np.flatnonzero(N.voxel_order(in_roi))
    keep = [v for v in flat if v not in (0, 1)]
    test = np.array([ids.index(i) for i in test_ids])
    train = np.setdiff1d(np.arange(n_stim), test)
    xd = x.astype(np.float64)
    pred = RidgeCV(alphas=np.logspace(-2, 6, 20), alpha_per_target=True).fit(xd[train], mean[train][:, keep]).predict(xd[test])
    want = np.array([np.corrcoef(pred[:, j], mean[test, v])[0, 1] for j, v in enumerate(keep)])
    got = ds.r.sel(model="conv/pass1").isel(split=0).values
    check("r per voxel equals sklearn RidgeCV on z-scored averaged betas", got.shape == want.shape
          and np.max(np.abs(got - want)) < 1e-6, f"{got.shape} vs {want.shape}")
    roi_score = ds.roi_score.sel(model="conv/pass1").values
    members = [[j for j, v in enumerate(keep) if N.voxel_order(sel)[v]] for sel in (mask > 0, labels == 7)]
    check("each ROI scored on its own: the median r over its voxels", ds.roi_score.dims == ("model", "roi")
          and np.allclose(roi_score, [np.median(got[m]) for m in members], atol=1e-12), str(roi_score))
    rmap = nib.load(os.path.join(p("maps"), "conv_pass1_r.nii.gz"))
    data = rmap.get_fdata()
    check("r map in the betas' grid and affine", data.shape == shape and np.allclose(rmap.affine, affine))
    check("r map NaN outside the ROIs and at bad voxels", np.all(np.isnan(data[~in_roi])) and np.isnan(data[0, 0, 0]))
    xyz = [np.unravel_index(v, shape[::-1])[::-1] for v in keep]
    check("r map holds the r of each voxel", np.allclose([data[c] for c in xyz], got, atol=1e-6))
    amap = nib.load(os.path.join(p("maps"), "conv_pass1_penalty.nii.gz")).get_fdata()
    check("penalty map positive inside, NaN outside", np.all(amap[tuple(np.array(xyz).T)] > 0) and np.all(np.isnan(amap[~in_roi])))

r = run(*common, "--roi", p("roi.nii.gz"), "--ncsnr-min", "0.5", "--out", p("snr.h5"))
check("--ncsnr-min exits 0", r.returncode == 0, r.stderr.strip())
if r.returncode == 0:
    # NSD's ncsnr: noise variance = mean over stimuli of the variance of their repeats (ddof 1),
    # signal sd = sqrt(max(0, total variance - noise variance)).
    vox = [v for v in np.flatnonzero(N.voxel_order(mask > 0)) if v not in (0, 1)]
    b = betas[:, vox]
    noise = np.mean([b[order == s].var(axis=0, ddof=1) for s in range(n_stim)], axis=0)
    snr = np.sqrt(np.maximum(0, b.var(axis=0, ddof=1) - noise)) / np.sqrt(noise)
    with h5py.File(p("snr.h5")) as f:
        below = int(f["encoding"].attrs["below_ncsnr"])
    check("voxels below the ncsnr threshold as numpy counts them", below == int((snr < 0.5).sum()) and below > 0,
          f"{below} vs {(snr < 0.5).sum()}")

# The betas are read a volume at a time: stored as big-endian int16 with scl_slope/scl_inter in a
# NIfTI-2 .nii they give the scores of nibabel's values (scaled in float64) as float32.
plain = ["--roi", p("roi.nii.gz"), "--halvings", "2"]
scaled = nib.Nifti2Image(nib.load(p("betas.nii.gz")).get_fdata(dtype=np.float32), affine)
scaled.header.set_data_dtype(np.dtype(">i2"))
nib.save(scaled, p("betas_i2.nii"))
N.write_nifti(p("betas_f4.nii.gz"), nib.load(p("betas_i2.nii")).get_fdata().astype(np.float32), affine)
outs = {}
for name in ("betas_i2.nii", "betas_f4.nii.gz"):
    args = list(common)
    args[args.index("--brain") + 1] = p(name)
    r = run(*args, *plain, "--out", p(name + ".h5"))
    check(f"encode from {name} exits 0", r.returncode == 0, r.stderr.strip())
    outs[name] = scores_of(p(name + ".h5")) if r.returncode == 0 else None
check("big-endian scaled int16 NIfTI-2 betas score as nibabel's float32 values",
      outs["betas_f4.nii.gz"] is not None and outs["betas_i2.nii"] is not None
      and np.array_equal(outs["betas_i2.nii"], outs["betas_f4.nii.gz"]))

# Bad input: one line, exit 2.
N.write_trials(p("short.csv"), ids, order[:-1])
bad = [("volume count differs from the table", ["--trials", p("short.csv")], "volumes"),
       ("test id missing", ["--test-ids", p("missing.txt")], "nosuch")]
write_lines(p("missing.txt"), test_ids[:4] + ["nosuch"])
other = affine.copy()
other[0, 3] += 5
N.write_nifti(p("shifted.nii.gz"), mask, other)
N.write_nifti(p("small.nii.gz"), mask[:5], affine)
bad += [("mask with another affine", ["--roi", p("shifted.nii.gz")], "grid"),
        ("mask with another shape", ["--roi", p("small.nii.gz")], "grid")]
nanmask = np.zeros(shape, np.uint8)
nanmask[0, 0, 0] = 1
N.write_nifti(p("nanroi.nii.gz"), nanmask, affine)
bad.append(("all-NaN voxel set", ["--roi", p("nanroi.nii.gz")], "NaN"))
with open(p("betas_i2.nii"), "rb") as f:
    whole = f.read()
with open(p("cut.nii"), "wb") as f:  # the last volume cut short
    f.write(whole[:-7])
bad.append(("betas cut short", ["--brain", p("cut.nii")], "cut.nii: the data end before volume"))
bad.append(("--trials without NIfTI betas", ["--brain", p("acts.h5") + ":/activations/conv/pass1"], "--trials"))
for name, extra, word in bad:
    args = list(common)
    for i in range(0, len(extra), 2):
        if extra[i] in args:
            args[args.index(extra[i]) + 1] = extra[i + 1]
        else:
            args += extra[i:i + 2]
    r = run(*args, "--out", p("bad.h5"))
    check(f"{name}: exit 2, one line", r.returncode == 2 and word in r.stderr and r.stderr.count("\n") == 1,
          r.stderr.strip())

c.finish()
