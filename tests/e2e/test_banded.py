#!/usr/bin/python3
"""End-to-end checks of lrm compare encode --regression banded on NSD-style NIfTI betas: two
layers as feature groups, voxels driven by one or the other, a penalty per group per voxel in
/banded and as NIfTI maps in the betas' grid; --n-iter 1 (only the uniform ratio) gives every
group the same penalty; bad input (one group, groups of other stimuli, --n-iter 0, --n-iter
without banded) as one line with exit 2. Parity with himalaya is the unit test's
(tests/fixtures/encoding/banded). The report's brain figures (reports/brain.py: slices and
maximum projections of r per layer x pass, and the banded penalties) are made from these runs'
results and from a ridgecv run's, and show the files' values (report_figures.check_brain).

Usage: test_banded.py path/to/lrm   (run from the repository root)
"""
import os
import sys

import glob
import subprocess

import h5py
import nibabel as nib
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lrm_e2e import Checks, write_activations, write_lines  # noqa: E402
import nsd_inputs as N  # noqa: E402
import report_figures as F  # noqa: E402

BRAIN_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "reports", "brain.py")

c = Checks("banded")
check = c.check
p = c.path
run = c.runner("--seed", "5")

rng = np.random.default_rng(31)
n_stim, reps, shape = 80, 2, (4, 4, 3)
ids = N.nsd_ids(n_stim)
affine = np.diag([2.0, 2.0, 2.0, 1.0])
features = {"conv": rng.standard_normal((n_stim, 30)), "fc": rng.standard_normal((n_stim, 60))}
models = {f"{layer}/pass1": x for layer, x in features.items()}
write_activations(p("acts.h5"), models, ids)
write_activations(p("other.h5"), models, {"conv": ids, "fc": ids[:-1] + ["elsewhere"]})
n_vox = int(np.prod(shape))
driver = np.arange(n_vox) % 2  # 0: conv drives the voxel, 1: fc does
signal = np.stack([features["conv" if d == 0 else "fc"] @ rng.standard_normal(30 if d == 0 else 60)
                   for d in driver], axis=1)
signal /= signal.std(0)
order, betas = N.repeated_trials(rng, signal, reps)
N.write_betas(p("betas.nii.gz"), betas, shape, affine)
N.write_trials(p("trials.csv"), ids, order)
mask = np.ones(shape, np.uint8)
mask[0] = 0
N.write_nifti(p("roi.nii.gz"), mask, affine)
write_lines(p("shared.txt"), ids[::4])

common = ["compare", "encode", "--activations", p("acts.h5"), "--brain", p("betas.nii.gz"),
          "--trials", p("trials.csv"), "--roi", p("roi.nii.gz"), "--test-ids", p("shared.txt"),
          "--regression", "banded", "--alphas", "1e-2:1e4:13"]
r = run(*common, "--n-iter", "30", "--write-nifti", p("maps"), "--out", p("banded.h5"))
check("banded encode from NIfTI betas exits 0", r.returncode == 0, r.stderr.strip())
in_roi = N.voxel_order(mask) > 0
if r.returncode == 0:
    with h5py.File(p("banded.h5")) as f:
        g = f["banded"]
        groups = [s.decode() if isinstance(s, bytes) else s for s in g["group"][:]]
        r_vox, penalty = g["r"][:], g["penalty"][:]
        check("the groups are the two layers", groups == ["conv/pass1", "fc/pass1"], str(groups))
        check("r is split x voxel, penalty split x group x voxel",
              r_vox.shape == (1, in_roi.sum()) and penalty.shape == (1, 2, in_roi.sum()),
              f"{r_vox.shape} {penalty.shape}")
        check("voxels predicted well (median r > 0.6)", np.median(r_vox) > 0.6, str(np.median(r_vox)))
        # A voxel driven by conv has a lower conv penalty than fc penalty, and the other way round.
        ratio = np.log10(penalty[0, 0] / penalty[0, 1])
        drv = driver[in_roi]
        check("each voxel's driving group has the smaller penalty",
              np.mean((ratio < 0) == (drv == 0)) > 0.9, str(np.round(ratio, 1)))
    for name in ("banded_r", "banded_conv_pass1_penalty", "banded_fc_pass1_penalty"):
        img = nib.load(os.path.join(p("maps"), name + ".nii.gz"))
        data = img.get_fdata()
        check(f"{name} map in the betas' grid, NaN outside the ROI",
              data.shape == shape and np.allclose(img.affine, affine) and np.all(np.isnan(data[0]))
              and np.all(np.isfinite(data[1:])))
    rmap = nib.load(os.path.join(p("maps"), "banded_r.nii.gz")).get_fdata()
    check("the r map holds each voxel's r", np.allclose(N.voxel_order(rmap)[in_roi], r_vox[0], atol=1e-6))



def brain_figures(results, label, want):
    """reports/brain.py on a run's results: the slice and projection figures, each panel the
    file's map."""
    out = p("figures", label)
    r = subprocess.run(["/usr/bin/python3", BRAIN_PY, results, "--out", out], capture_output=True,
                       text=True)
    stems = sorted(os.path.basename(x)[:-5] for x in glob.glob(os.path.join(out, "*.json")))
    check(f"brain figures of the {label} run: {want}", r.returncode == 0 and stems == want,
          f"{r.returncode} {stems} {r.stderr[-400:]}")
    for stem in stems:
        fig = F.load(out, stem)
        panels = [ax for ax in fig["axes"] if ax["images"]]
        problems = F.check_brain(fig, results)
        check(f"{stem}: {len(panels)} panels, each the file's map", panels and not problems, problems)


if os.path.exists(p("banded.h5")):
    brain_figures(p("banded.h5"), "banded", ["brain-glass-betas-banded", "brain-slices-betas-banded"])
r = run(*common[:-4], "--regression", "ridgecv", "--write-nifti", p("ridge_maps"), "--out", p("ridgecv.h5"))
check("ridgecv encode of both layers exits 0", r.returncode == 0, r.stderr.strip())
if r.returncode == 0:
    brain_figures(p("ridgecv.h5"), "ridgecv", ["brain-glass-betas", "brain-slices-betas"])
    rmap = nib.load(os.path.join(p("ridge_maps"), "fc_pass1_r.nii.gz")).get_fdata()
    with h5py.File(p("ridgecv.h5")) as f:
        fc = f["encoding/r"][1, 0]
    check("the figures' source agrees with the NIfTI map --write-nifti wrote",
          np.allclose(N.voxel_order(rmap)[in_roi], fc, atol=1e-6))

r = run(*common, "--n-iter", "1", "--out", p("uniform.h5"))
check("--n-iter 1 exits 0", r.returncode == 0, r.stderr.strip())
if r.returncode == 0:
    with h5py.File(p("uniform.h5")) as f:
        pen = f["banded/penalty"][:]
    check("--n-iter 1: the uniform ratio, every group the same penalty", np.allclose(pen[:, 0], pen[:, 1]))

# Recordings rather than NIfTI betas: simulated from fc, so fc carries the smaller penalty.
r = run("compare", "simulate", "--activations", p("acts.h5"), "--layer", "fc", "--pass", "1",
        "--neuroids", "6", "--out", p("sim.h5"))
r = r if r.returncode else run("compare", "encode", "--activations", p("acts.h5"), "--brain",
                               p("sim.h5") + ":/responses", "--regression", "banded", "--n-iter",
                               "20", "--splits", "2", "--out", p("sim_banded.h5"))
check("banded encode of simulated recordings exits 0", r.returncode == 0, r.stderr.strip())
if r.returncode == 0:
    with h5py.File(p("sim_banded.h5")) as f:
        pen = f["banded/penalty"][:]
    check("simulated from fc: fc has the smaller penalty for most neuroids",
          np.mean(pen[:, 1] < pen[:, 0]) > 0.7, str(np.log10(pen).round(1)))

# Unit groups: a localizer's selective units of fc and a size-matched random set as the groups.
with h5py.File(p("localizer.h5"), "w") as f:
    f["localizer/fc/pass1/sel/selective"] = (np.arange(60) < 20).astype(np.uint8)
r = run(*common, "--layers", "fc", "--units", p("localizer.h5") + ":fc/pass1/sel",
        "--units-control", "random", "--n-iter", "10", "--write-nifti", p("unit_maps"),
        "--out", p("units.h5"))
check("banded over unit groups (--units, --units-control random) exits 0", r.returncode == 0,
      r.stderr.strip())
if r.returncode == 0:
    with h5py.File(p("units.h5")) as f:
        groups = [s.decode() if isinstance(s, bytes) else s for s in f["banded/group"][:]]
        shape = f["banded/penalty"].shape
        b = f["banded"]
        unit_set = list(b["unit_set"].asstr()[:]) if "unit_set" in b else None
        n_units = list(b["n_units"][:]) if "n_units" in b else None
        sets = {k: b["units"][k][:] for k in b["units"]} if "units" in b else {}
        recorded = (b.attrs.get("units"), b.attrs.get("units_control"), unit_set, n_units)
    check("the unit sets are recorded as compare encode records them (unit_set, n_units, units/<set>)",
          recorded == (p("localizer.h5") + ":fc/pass1/sel", "random:1", ["sel", "random0"], [20, 20])
          and np.array_equal(sets.get("sel"), np.arange(20)) and len(set(sets.get("random0", []))) == 20,
          f"{recorded} {sorted(sets)}")
    check("the groups are the selective and the random unit set",
          groups == ["fc:sel/pass1", "fc:random0/pass1"] and shape[1] == 2, f"{groups} {shape}")
    check("a penalty map per unit group", all(os.path.exists(os.path.join(p("unit_maps"), n))
          for n in ("banded_fc_sel_pass1_penalty.nii.gz", "banded_fc_random0_pass1_penalty.nii.gz")),
          str(os.listdir(p("unit_maps"))))

for label, args, word in [
        ("one feature group", common + ["--layers", "conv"], "2 feature groups"),
        ("groups of other stimuli", [a if a != p("acts.h5") else p("other.h5") for a in common], "fc/pass1"),
        ("--n-iter 0", common + ["--n-iter", "0"], "--n-iter"),
        ("--n-iter without banded", common[:-4] + ["--regression", "ridgecv", "--n-iter", "5"], "--n-iter")]:
    c.bad_input(label, ["--seed", "5", *args, "--out", p("bad.h5")], word)

c.finish()
