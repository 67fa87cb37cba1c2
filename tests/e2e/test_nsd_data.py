#!/usr/bin/python3
"""End-to-end checks of NSD-style data beyond NIfTI betas: --indices subsets of a channels-last
stimulus brick (ids of the extracted file, the same activations as the full brick's rows), HDF5
trials x voxels betas as h5py and xarray write them (the same scores as the same data in NIfTI + trial
table), and --units from a localizer result with size-matched random controls for compare encode
and rsa (the same scores as a layer file restricted to those units with h5py); bad input as one
line with exit 2.

Usage: test_nsd_data.py path/to/lrm   (run from the repository root)
"""
import os
import sys

import h5py
import numpy as np
import xarray as xr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lrm_e2e import Checks, write_lines  # noqa: E402
import nsd_inputs as N  # noqa: E402

c = Checks("nsd_data")
check, p = c.check, c.path
run = c.runner("--seed", "3")


def ok(label, r):
    check(label, r.returncode == 0, r.stderr.strip())
    return r.returncode == 0


def scores(path, group="encoding"):
    with h5py.File(path, "r") as f:
        g = f[group]
        return {k: g[k][()] for k in ("r", "score_raw") if k in g}


def write_acts(path, x, ids, categories=None, layer="conv"):
    with h5py.File(path, "w") as f:
        g = f.create_group(f"activations/{layer}")
        g["stimulus"] = np.array(ids, dtype=object)
        if categories is not None:
            g["category"] = np.array(categories, dtype=object)
        g["pass1"] = x.astype(np.float32)


# --- (a) --indices on a channels-last uint8 brick -------------------------------------------------
rng = np.random.default_rng(14)
brick = p("nsd_stimuli.hdf5")
with h5py.File(brick, "w") as f:
    f["imgBrick"] = rng.integers(0, 256, size=(12, 64, 64, 3), dtype=np.uint8)
rows = [7, 3, 11, 0]
write_lines(p("rows.txt"), rows)
extract = ["extract", "--model", "alexnet-lrm3", "--resize", "0", "--crop", "0", "--layers",
           "features.3", "--passes", "0", "--batch-size", "3", "--threads", "2"]
full, sub = p("brick_all.h5"), p("brick_rows.h5")
if ok("extract the whole brick", run(*extract, "--stimuli", brick + ":/imgBrick", "--out", full)) and ok(
        "extract --indices rows of the brick",
        run(*extract, "--stimuli", brick + ":/imgBrick", "--indices", p("rows.txt"), "--out", sub)):
    with h5py.File(full, "r") as a, h5py.File(sub, "r") as b:
        ids = [s.decode() if isinstance(s, bytes) else s for s in b["activations/features.3/stimulus"][()]]
        check("--indices: the file's stimulus ids are the chosen rows, in the file's order",
              ids == [str(r) for r in rows], ids)
        check("--indices: the activations are the full brick's rows",
              np.array_equal(b["activations/features.3/pass0"][()], a["activations/features.3/pass0"][()][rows]))
# any stimulus set: a folder of category folders, chosen by id and by row number
from PIL import Image  # noqa: E402
for k, cat in enumerate(["a", "b"]):
    os.makedirs(p("folder", cat))
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(p("folder", cat, f"{i}.png"))
folder_all = p("folder_all.h5")
if ok("extract a folder set", run(*extract, "--stimuli", p("folder"), "--out", folder_all)):
    with h5py.File(folder_all, "r") as f:
        all_ids = [s.decode() if isinstance(s, bytes) else s for s in f["activations/features.3/stimulus"][()]]
        all_x = f["activations/features.3/pass0"][()]
    with open(p("folder_rows.txt"), "w") as f:
        f.write(f"{all_ids[4]}\n1\n")
    if ok("extract --indices of a folder set (an id and a row number)",
          run(*extract, "--stimuli", p("folder"), "--indices", p("folder_rows.txt"), "--out", p("folder_sub.h5"))):
        with h5py.File(p("folder_sub.h5"), "r") as f:
            ids_ = [s.decode() if isinstance(s, bytes) else s for s in f["activations/features.3/stimulus"][()]]
            check("--indices on a folder: ids and activations of the rows listed",
                  ids_ == [all_ids[4], all_ids[1]]
                  and np.array_equal(f["activations/features.3/pass0"][()], all_x[[4, 1]]), ids_)
for label, text, must in [("row out of range", "3\n12\n", "rows.bad:2"),
                          ("unknown id", "3\nimg7\n", "rows.bad:2"),
                          ("a row listed twice", "3\n5\n3\n", "rows.bad:3"),
                          ("an empty list", "\n", "rows.bad")]:
    with open(p("rows.bad"), "w") as f:
        f.write(text)
    c.bad_input(f"--indices: {label}", ["extract", "--model", "alexnet-lrm3", "--stimuli", brick + ":/imgBrick",
                                        "--indices", p("rows.bad"), "--layers", "features.3", "--out",
                                        p("never.h5")], must)

# --- (b) HDF5 trials x voxels betas = NIfTI betas + trial table -----------------------------------
n_stim, reps, shape = 60, 2, (6, 5, 4)
ids = N.nsd_ids(n_stim)
cats = ["scene", "face", "object"] * (n_stim // 3)
latent = rng.standard_normal((n_stim, 5))
n_units = 300
x = latent @ rng.standard_normal((5, n_units)) + rng.standard_normal((n_stim, n_units))
scene = np.array([c_ == "scene" for c_ in cats])
x[:, :150] += 3.0 * scene[:, None]  # the first 150 units prefer scenes
write_acts(p("acts.h5"), x, ids, cats)
n_vox = int(np.prod(shape))
signal = latent @ rng.standard_normal((5, n_vox))
order, betas = N.repeated_trials(rng, signal, reps)
sessions = np.repeat([1, 2], n_stim)
betas[sessions == 2] = betas[sessions == 2] * 3 + 7
betas[:, 0] = np.nan  # bad voxels: NaN and constant
betas[:, 1] = 5.0
N.write_betas(p("betas.nii.gz"), betas, shape, np.eye(4))
N.write_trials(p("trials.csv"), ids, order, sessions)
with h5py.File(p("betas.h5"), "w") as f:
    f["betas"] = betas.astype(np.float32)
    f["stimulus_id"] = np.array([ids[s] for s in order], dtype="S")
    f["session"] = sessions
with h5py.File(p("betas_int.h5"), "w") as f:  # integer ids (NSD's 73k ids), another data name
    f["responses"] = betas.astype(np.float32)
    f["nsd_id"] = order.astype(np.int64)
write_acts(p("acts_int.h5"), x, [str(i) for i in range(n_stim)], cats)

encode = ["compare", "encode", "--regression", "ridgecv", "--alphas", "1e-1:1e4:8", "--splits", "3",
          "--halvings", "3"]
nifti_out, h5_out = p("enc_nifti.h5"), p("enc_h5.h5")
for extra, tag in [(["--zscore-by", "session"], "z-scored by session"), (["--ncsnr-min", "0.2"], "ncsnr >= 0.2")]:
    a = run(*encode, "--activations", p("acts.h5"), "--brain", p("betas.nii.gz"), "--trials", p("trials.csv"),
            *extra, "--out", nifti_out)
    b = run(*encode, "--activations", p("acts.h5"), "--brain", p("betas.h5"), *extra, "--out", h5_out)
    if ok(f"NIfTI betas ({tag})", a) and ok(f"HDF5 betas ({tag})", b):
        sa, sb = scores(nifti_out), scores(h5_out)
        check(f"HDF5 betas score as NIfTI + trial table ({tag})",
              np.allclose(sa["r"], sb["r"], atol=1e-10, equal_nan=True)
              and np.allclose(sa["score_raw"], sb["score_raw"], atol=1e-12), (sa["score_raw"], sb["score_raw"]))
        with h5py.File(nifti_out, "r") as fa, h5py.File(h5_out, "r") as fb:
            same = all(fa["encoding"].attrs[k] == fb["encoding"].attrs[k] for k in ("bad_voxels", "below_ncsnr"))
            check(f"HDF5 betas: bad voxels counted and left out as in NIfTI ({tag})",
                  same and fb["encoding"].attrs["bad_voxels"] == 2, dict(fb["encoding"].attrs))
b = run(*encode, "--activations", p("acts_int.h5"), "--brain", p("betas_int.h5"), "--out", p("enc_int.h5"))
if ok("HDF5 betas named responses with integer nsd_id", b):
    a = run(*encode, "--activations", p("acts.h5"), "--brain", p("betas.h5"), "--out", h5_out)
    check("integer ids give the same scores as string ids",
          a.returncode == 0 and np.allclose(scores(h5_out)["r"], scores(p("enc_int.h5"))["r"], atol=1e-10, equal_nan=True))
xr.Dataset({"betas": (("trial", "voxel"), betas.astype(np.float32))},
           coords={"stimulus_id": ("trial", [ids[s] for s in order]), "session": ("trial", sessions)}
           ).to_netcdf(p("betas_xr.h5"), engine="h5netcdf")
b = run(*encode, "--activations", p("acts.h5"), "--brain", p("betas_xr.h5"), "--zscore-by", "session", "--out",
        p("enc_xr.h5"))
a = run(*encode, "--activations", p("acts.h5"), "--brain", p("betas.h5"), "--zscore-by", "session", "--out", h5_out)
if ok("HDF5 betas written by xarray (dims trial, voxel)", b) and a.returncode == 0:
    check("xarray's betas score as h5py's", np.allclose(scores(h5_out)["r"], scores(p("enc_xr.h5"))["r"],
                                                          atol=1e-10, equal_nan=True))
with h5py.File(p("no_ids.h5"), "w") as f:
    f["betas"] = betas.astype(np.float32)
c.bad_input("HDF5 betas without stimulus ids", [*encode, "--activations", p("acts.h5"), "--brain", p("no_ids.h5"),
                                               "--out", p("never.h5")], "no_ids.h5")
c.bad_input("HDF5 betas: --zscore-by session without sessions",
            [*encode, "--activations", p("acts_int.h5"), "--brain", p("betas_int.h5"), "--zscore-by", "session",
             "--out", p("never.h5")], "session")
c.bad_input("HDF5 betas with --roi", [*encode, "--activations", p("acts.h5"), "--brain", p("betas.h5"), "--roi",
                                      p("betas.nii.gz"), "--out", p("never.h5")], "--roi")
with h5py.File(p("all_nan.h5"), "w") as f:
    f["betas"] = np.full(betas.shape, np.nan, np.float32)
    f["stimulus_id"] = np.array([ids[s] for s in order], dtype="S")
c.bad_input("HDF5 betas all NaN", [*encode, "--activations", p("acts.h5"), "--brain", p("all_nan.h5"), "--out",
                                   p("never.h5")], "all_nan.h5")

# --- (c) --units from a localizer result, random controls -----------------------------------------
loc = p("localizer.h5")
ok("localize the layer", run("localize", "--activations", p("acts.h5"), "--target", "all", "--out", loc))
spec = loc + ":conv/pass1/scene"
with h5py.File(loc, "r") as f:
    units = np.flatnonzero(f["localizer/conv/pass1/scene/selective"][()])
check("the localizer finds scene units (more than the stimuli: the streamed Gram path)",
      len(units) > n_stim, len(units))
write_acts(p("acts_scene.h5"), x[:, units], ids, cats)
for regression in ["ridgecv", "pls"]:
    enc = ["compare", "encode", "--regression", regression, "--splits", "3", "--halvings", "3", "--brain",
           p("betas.h5"), "--zscore-by", "session"]
    a = run(*enc, "--activations", p("acts.h5"), "--units", spec, "--out", p("enc_units.h5"))
    b = run(*enc, "--activations", p("acts_scene.h5"), "--out", p("enc_scene.h5"))
    if ok(f"encode --units ({regression})", a) and ok(f"encode on the restricted layer ({regression})", b):
        sa, sb = scores(p("enc_units.h5")), scores(p("enc_scene.h5"))
        check(f"encode --units = encode on a layer file of those units ({regression})",
              np.allclose(sa["r"], sb["r"], atol=1e-10, equal_nan=True), (sa["score_raw"], sb["score_raw"]))
ctl = ["compare", "encode", "--regression", "ridgecv", "--splits", "3", "--halvings", "3", "--brain",
       p("betas.h5"), "--activations", p("acts.h5"), "--units", spec, "--units-control", "random:2"]
a, a2 = run(*ctl, "--out", p("ctl.h5")), run(*ctl, "--out", p("ctl2.h5"))
if ok("encode --units-control random:2", a) and a2.returncode == 0:
    with h5py.File(p("ctl.h5"), "r") as f:
        g = f["encoding"]
        models = [m.decode() if isinstance(m, bytes) else m for m in g["model"][()]]
        sizes = list(g["n_units"][()])
        r0, r1 = g["units/random0"][()], g["units/random1"][()]
        check("controls: one row per set, named by the set",
              models == ["conv:scene/pass1", "conv:random0/pass1", "conv:random1/pass1"], models)
        check("controls: size-matched random sets, distinct draws", sizes == [len(units)] * 3
              and len(r0) == len(units) and not np.array_equal(r0, r1), sizes)
        r_ctl = g["r"][()]
    check("controls: the same seed draws the same sets", np.array_equal(r_ctl, scores(p("ctl2.h5"))["r"]))
    write_acts(p("acts_r0.h5"), x[:, r0], ids, cats)
    b = run(*ctl[:-6], "--activations", p("acts_r0.h5"), "--out", p("enc_r0.h5"))
    check("controls: a random set scores as a layer file of its units",
          b.returncode == 0 and np.allclose(r_ctl[1], scores(p("enc_r0.h5"))["r"][0], atol=1e-10, equal_nan=True))
    b = c.run("--seed", "4", *ctl, "--out", p("ctl3.h5"), check=False)
    with h5py.File(p("ctl3.h5"), "r") as f:
        check("controls: another seed draws other sets", b.returncode == 0
              and not np.array_equal(f["encoding/units/random0"][()], r0))
a = run("compare", "encode", "--regression", "ridgecv", "--splits", "2", "--halvings", "2", "--activations",
        p("acts.h5"), "--brain", p("betas.nii.gz"), "--trials", p("trials.csv"), "--units", spec,
        "--units-control", "random", "--write-nifti", p("maps"), "--out", p("enc_maps.h5"))
check("--write-nifti names unit sets' maps in plain characters", a.returncode == 0 and sorted(os.listdir(p("maps")))
      == ["conv_random0_pass1_penalty.nii.gz", "conv_random0_pass1_r.nii.gz", "conv_scene_pass1_penalty.nii.gz",
          "conv_scene_pass1_r.nii.gz"], a.stderr.strip() or os.listdir(p("maps")))
# rsa through the units (brain RDM matched by order)
d = signal[:, :40]
rdm = 1 - np.corrcoef(d)
with h5py.File(p("rdm.h5"), "w") as f:
    f["rdm"] = rdm
a = run("compare", "rsa", "--activations", p("acts.h5"), "--brain", p("rdm.h5") + ":/rdm", "--units", spec,
        "--out", p("rsa_units.h5"))
b = run("compare", "rsa", "--activations", p("acts_scene.h5"), "--brain", p("rdm.h5") + ":/rdm", "--out",
        p("rsa_scene.h5"))
if ok("rsa --units", a) and ok("rsa on the restricted layer", b):
    with h5py.File(p("rsa_units.h5"), "r") as fa, h5py.File(p("rsa_scene.h5"), "r") as fb:
        check("rsa --units = rsa on a layer file of those units",
              np.allclose(fa["rsa/r_mean"][()], fb["rsa/r_mean"][()], atol=1e-12))
# bad input
with h5py.File(p("loc_other.h5"), "w") as f:
    f["localizer/conv/pass1/scene/selective"] = np.ones(100, np.uint8)
    f["localizer/conv/pass1/none/selective"] = np.zeros(n_units, np.uint8)
    f["localizer/fc/pass1/scene/selective"] = np.ones(n_units, np.uint8)
enc = ["compare", "encode", "--regression", "ridgecv", "--brain", p("betas.h5"), "--activations", p("acts.h5"),
       "--out", p("never.h5")]
c.bad_input("--units of another unit count", [*enc, "--units", p("loc_other.h5") + ":conv/pass1/scene"], "100")
c.bad_input("--units without selective units", [*enc, "--units", p("loc_other.h5") + ":conv/pass1/none"], "none")
c.bad_input("--units of an unknown target", [*enc, "--units", loc + ":conv/pass1/castle"], "castle")
c.bad_input("--units of a layer the activations lack", [*enc, "--units", p("loc_other.h5") + ":fc/pass1/scene"],
            "fc")
c.bad_input("--units beside another layer", [*enc, "--units", spec, "--layers", "fc"], "--units")
c.bad_input("--out is the --units localizer", [*enc[:-2], "--units", spec, "--out", loc], "--out")
c.bad_input("--units-control without --units", [*enc, "--units-control", "random"], "--units-control")
c.bad_input("--units-control of another kind", [*enc, "--units", spec, "--units-control", "shuffle"],
            "--units-control")
c.finish()
