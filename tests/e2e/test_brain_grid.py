#!/usr/bin/python3
"""End-to-end checks that lrm compare encode records the betas' grid on its results: /encoding and
/banded carry grid_shape and affine equal to nibabel's header of the NIfTI betas (read with h5py),
HDF5 trials x voxels betas (no grid) carry neither, and lrm report's brain figures draw the maps in
that whole grid with axes in world millimetres (each panel the file's map, per report_figures;
slice titles at the affine's z, axes named x, y, z mm).

Usage: test_brain_grid.py path/to/lrm   (run from the repository root)
"""
import glob
import os
import re
import sys

import h5py
import nibabel as nib
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lrm_e2e import Checks  # noqa: E402
import report_figures as F  # noqa: E402

c = Checks("brain_grid")
check, p = c.check, c.path


def run(*args):
    r = c.run("--seed", "5", *args, check=False)
    check(f"lrm {' '.join(args[:2])} ... {args[-1]} exits 0", r.returncode == 0, r.stderr.strip())
    return r.returncode == 0


# A small NSD-like subject: 40 images shown twice, betas linear in 3 latent features plus noise,
# on a 7 x 6 x 5 grid whose x axis runs right to left (as in LAS images), an ROI inside it.
rng = np.random.default_rng(21)
n_stim, shape = 40, (7, 6, 5)
affine = np.array([[-2.0, 0, 0, 30], [0, 2.5, 0, -70], [0, 0, 3.0, -12], [0, 0, 0, 1]])
ids = [f"img{i:03d}" for i in range(n_stim)]
latent = rng.standard_normal((n_stim, 3))
with h5py.File(p("acts.h5"), "w") as f:
    g = f.create_group("activations/conv")
    g["stimulus"] = np.array(ids, dtype=object)
    for k in (0, 1):
        g[f"pass{k}"] = (latent @ rng.standard_normal((3, 30)) + rng.standard_normal((n_stim, 30))).astype(np.float32)
order = np.concatenate([rng.permutation(n_stim), rng.permutation(n_stim)])
grid = rng.standard_normal((3,) + shape)  # each voxel's weights on the latent features
betas = np.tensordot(latent[order], grid, 1) + 0.5 * rng.standard_normal((len(order),) + shape)
nib.save(nib.Nifti1Image(np.moveaxis(betas, 0, -1).astype(np.float32), affine), p("betas.nii.gz"))
with open(p("trials.csv"), "w") as f:
    f.write("stimulus_id\n" + "".join(ids[s] + "\n" for s in order))
roi = np.zeros(shape, np.uint8)
roi[1:5, 2:5, 1:4] = 1
nib.save(nib.Nifti1Image(roi, affine), p("roi.nii.gz"))
header = nib.load(p("betas.nii.gz"))
want_shape, want_affine = header.shape[:3], header.affine

brain = ["--activations", p("acts.h5"), "--brain", p("betas.nii.gz"), "--trials", p("trials.csv"),
         "--roi", p("roi.nii.gz")]
results = {}
if run("compare", "encode", *brain, "--regression", "ridgecv", "--splits", "2", "--out", p("enc.h5")):
    results["encoding"] = p("enc.h5")
if run("compare", "encode", *brain, "--regression", "banded", "--passes", "0,1", "--n-iter", "4",
       "--splits", "2", "--out", p("banded.h5")):
    results["banded"] = p("banded.h5")
for group, path in results.items():
    with h5py.File(path) as f:
        attrs = f[group].attrs
        got_shape, got_affine = attrs.get("grid_shape"), attrs.get("affine")
    check(f"/{group} grid_shape: int64 {want_shape} as nibabel reads the betas",
          got_shape is not None and got_shape.dtype == np.int64 and tuple(got_shape) == want_shape,
          repr(got_shape))
    check(f"/{group} affine: float64 4 x 4 equal to nibabel's",
          got_affine is not None and got_affine.dtype == np.float64 and got_affine.shape == (4, 4)
          and np.array_equal(got_affine, want_affine), repr(got_affine))

# HDF5 trials x voxels: voxel ids without a grid, so no grid attributes.
with h5py.File(p("betas.h5"), "w") as f:
    f["betas"] = betas.reshape(len(order), -1)[:, :12]
    f["stimulus_id"] = np.array([ids[s] for s in order], dtype=object)
if run("compare", "encode", "--activations", p("acts.h5"), "--brain", p("betas.h5"), "--regression",
       "ridgecv", "--splits", "2", "--out", p("h5betas.h5")):
    with h5py.File(p("h5betas.h5")) as f:
        check("HDF5 betas: no grid_shape or affine",
              not {"grid_shape", "affine"} & set(f["encoding"].attrs), str(list(f["encoding"].attrs)))


def world_panels(fig, path):
    """Problems of a brain figure drawn in the recorded grid: each image the whole grid's slice or
    projection, its axes named for the world axes, each slice titled with its z in mm."""
    problems = F.check_brain(fig, path)
    sizes = {"sagittal": (shape[2], shape[1]), "coronal": (shape[2], shape[0]),
             "axial": (shape[1], shape[0])}
    names = {"sagittal": ("y", "z"), "coronal": ("x", "z"), "axial": ("x", "y")}
    for ax in (a for a in fig["axes"] if a["images"]):
        image, title = np.array(ax["images"][-1], dtype=float), ax["title"]
        view = re.match(r"z = (-?[\d.]+) mm \(k = (\d+)\)$", title)
        if view:
            z, k = float(view.group(1)), int(view.group(2))
            if abs(z - (affine[2, 2] * k + affine[2, 3])) > 0.05:
                problems.append(f"{title}: z is not the affine's")
            kind = "axial"
        else:
            kind = title.split()[0]
        if image.shape != sizes.get(kind):
            problems.append(f"{title}: image {image.shape}, not the whole grid's {sizes.get(kind)}")
        for label, name in zip((ax["xlabel"], ax["ylabel"]), names.get(kind, ())):
            if label not in ("", f"{name} (mm)"):
                problems.append(f"{title}: axis {label!r}, not {name} (mm)")
    if not any(ax["xlabel"] == "x (mm)" for ax in fig["axes"]):
        problems.append("no axis named x (mm)")
    return problems


for group, path in results.items():
    out = p(f"report_{group}")
    r = c.run("report", path, "--out", out, check=False)
    stems = sorted(os.path.basename(s)[:-5] for s in glob.glob(os.path.join(out, "brain-*.json")))
    check(f"lrm report on /{group}: slices and glass figures", r.returncode == 0 and len(stems) == 2,
          f"{r.returncode} {stems} {r.stderr[-400:]}")
    for stem in stems:
        png = os.path.join(out, stem + ".png")
        check(f"{stem}: rendered (PNG)", os.path.getsize(png) > 1000 if os.path.exists(png) else False)
        problems = world_panels(F.load(out, stem), path)
        check(f"{stem}: the file's maps in the whole grid, axes in world mm", not problems, problems)

c.finish()
