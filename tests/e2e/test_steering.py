"""Steering end to end: lrm prototypes, lrm steer (overlay and side-by-side, shared pass 0 checked
against the naive run, determinism, xarray interop) and lrm attend on a small structured digit-like
set with a random-weight mnist-lrm model, plus the bad inputs of issue 6."""
import os

import h5py
import numpy as np
import xarray as xr
from PIL import Image

from lrm_e2e import Checks

c = Checks("steering")
rng = np.random.default_rng(0)


def pattern_images(n_per_category, categories, shape=(28, 28)):
    """Category k: a bright bar at a category-specific place plus noise, so units can be selective."""
    images, cats, ids = [], [], []
    for k, name in enumerate(categories):
        for i in range(n_per_category):
            im = rng.integers(0, 60, size=shape).astype(np.uint8)
            row = 3 + 5 * k
            im[row:row + 3, 4:24] = 255
            images.append(im)
            cats.append(name)
            ids.append(f"{name}-{i:03d}")
    return np.stack(images), cats, ids


def write_set(path, categories, n_per_category):
    images, cats, ids = pattern_images(n_per_category, categories)
    with h5py.File(path, "w") as f:
        f["images"] = images
        f["category"] = np.array(cats, dtype=h5py.string_dtype())
        f["stimulus"] = np.array(ids, dtype=h5py.string_dtype())


digits = c.path("digits.h5")
write_set(digits, ["0", "1", "2", "3"], 60)
model = ["--model", "mnist-lrm"]

for sub in ["steer", "attend", "prototypes"]:
    p = c.run(sub, "--help")
    c.check(f"{sub} --help explains itself", "--out" in p.stdout)

# Prototypes, stored for reuse.
protos = c.path("protos.h5")
c.run("prototypes", *model, "--stimuli", digits, "--out", protos)
with h5py.File(protos, "r") as f:
    c.check("prototypes: 4 categories × 10 outputs", f["prototypes/vectors"].shape == (4, 10))
    c.check("prototypes: layer and pass recorded",
            f["prototypes"].attrs["layer"] == "classifier.6" and f["prototypes"].attrs["pass"] == 0)
ds = xr.open_dataset(protos, group="prototypes", engine="h5netcdf")
c.check("prototypes open in xarray with labelled categories",
        ds["vectors"].dims == ("category", "unit") and list(ds["category"].values) == ["0", "1", "2", "3"])

# Overlay challenge, shared pass 0 checked against every condition running all passes.
out = c.path("steer.h5")
p = c.run("--seed", "5", "steer", *model, "--stimuli", digits, "--out", out, "--composites", "40",
          "--steer-strength", "1,3", "--check-naive", "--resamples", "1000", quiet=False)
c.check("steer: shared and naive runs give the same top-1 everywhere", "top-1 mismatches 0" in p.stdout, p.stdout)
with h5py.File(out, "r") as f:
    g = f["steering"]
    conds = list(g["condition"].asstr()[:])
    c.check("steer: conditions are pass0, pass1, 4 types × 2 alphas", len(conds) == 10 and conds[:2] == ["pass0", "pass1"],
            conds)
    c.check("steer: naive outputs equal shared ones (max |Δ| < 1e-4)", g.attrs["naive_max_abs_difference"] < 1e-4,
            g.attrs["naive_max_abs_difference"])
    c.check("steer: top1 is composite × condition × steer_toward", g["top1"].shape == (40, 10, 3))
    cats = [g[k].asstr()[:] for k in ("category1", "category2", "absent_category")]
    c.check("steer: triplets have three distinct categories", all(len({a, b, x}) == 3 for a, b, x in zip(*cats)))
    hr, ci = g["hit_rate"][:], g["hit_rate_ci"][:]
    c.check("steer: CIs bracket the rates", np.all(ci[:, 0] <= hr + 1e-12) and np.all(hr <= ci[:, 1] + 1e-12))
    top1 = g["top1"][:]
    classes = list(g["class"].asstr()[:])
    idx1 = np.array([classes.index(x) for x in cats[0]])
    idx2 = np.array([classes.index(x) for x in cats[1]])
    expect = ((top1[:, 0, 0] == idx1).mean() + (top1[:, 0, 1] == idx2).mean()) / 2
    c.check("steer: pass-0 hit rate recomputes from top1", abs(expect - hr[0]) < 1e-12, (expect, hr[0]))
    fa = g["false_alarm_rate"][:]
    absent = np.array([classes.index(x) for x in cats[2]])
    c.check("steer: false-alarm rate recomputes from top1",
            abs((top1[:, 4, 2] == absent).mean() - fa[4]) < 1e-12)
    h, fr, ap = hr[4], fa[4], g["a_prime"][4]
    ref = 0.5 if h == fr else (0.5 + (h - fr) * (1 + h - fr) / (4 * h * (1 - fr)) if h > fr
                               else 0.5 - (fr - h) * (1 + fr - h) / (4 * fr * (1 - h)))
    c.check("steer: A' follows Grier's formula", abs(ap - ref) < 1e-12, (ap, ref))
    mo = g["mean_output"][:]
    c.check("steer: mean outputs are condition × steer_toward × output_of", mo.shape == (10, 3, 3))
    c.check("steer: mean output is the mean of the per-composite outputs",
            np.allclose(mo, g["output"][:].mean(axis=0), atol=1e-5))
    c.check("steer: result is complete with provenance", f.attrs["complete"] == 1 and "model" in f.attrs)
ds = xr.open_dataset(out, group="steering", engine="h5netcdf")
c.check("steer: xarray shows labelled dims", ds["hit_rate_ci"].dims == ("condition", "bound")
        and "alpha" in ds.coords and "category1" in ds.coords)

out2 = c.path("steer2.h5")
p = c.run("--seed", "5", "steer", *model, "--stimuli", digits, "--out", out2, "--composites", "40", "--alphas", "1,3",
          quiet=False)
c.check("steer: the old --alphas still works, with a deprecation note", "deprecated" in p.stderr, p.stderr)
p = c.run("--seed", "5", "steer", *model, "--stimuli", digits, "--out", c.path("quiet.h5"), "--composites", "10",
          "--steer-strength", "1", "--passes", "2")
c.check("steer --quiet prints no table and no note", p.stdout == "" and p.stderr == "", (p.stdout, p.stderr))
with h5py.File(out, "r") as a, h5py.File(out2, "r") as b:
    c.check("steer: same seed, same results", np.array_equal(a["steering/top1"][:], b["steering/top1"][:])
            and np.array_equal(a["steering/a_prime_ci"][:], b["steering/a_prime_ci"][:]))

# Separate gains of sigma- and sigma+ (a-:a+); a:a is the same as a.
gains = c.path("gains.h5")
c.run("--seed", "5", "steer", *model, "--stimuli", digits, "--out", gains, "--composites", "40",
      "--steer-strength", "1,1:3")
with h5py.File(gains, "r") as g2, h5py.File(out, "r") as g1:
    conds = list(g2["steering/condition"].asstr()[:])
    c.check("steer a-:a+: conditions named by both gains", conds[2:4] == ["one-hot alpha=1", "one-hot alpha=1:3"],
            conds)
    c.check("steer a-:a+: gains of sigma- recorded", list(g2["steering/alpha_negative"][2:4]) == [1, 1]
            and list(g2["steering/alpha"][2:4]) == [1, 3])
    c.check("steer a-:a+: the symmetric gain gives the same top-1 as before",
            np.array_equal(g2["steering/top1"][:, 2], g1["steering/top1"][:, 2]))
att2 = c.path("attend_gains.h5")
c.run("attend", *model, "--stimuli", digits, "--attend", "1,2", "--layer", "features.9",
      "--localizer-images", "30", "--composites", "25", "--steer-strength", "2:3", "--out", att2)
with h5py.File(att2, "r") as f:
    c.check("attend a-:a+: both gains recorded",
            f["attention"].attrs["alpha"] == 3 and f["attention"].attrs["alpha_negative"] == 2)

# Side by side, with stored prototypes and vectors from a file.
out3 = c.path("side.h5")
p = c.run("steer", *model, "--stimuli", digits, "--out", out3, "--composite", "side-by-side", "--composites", "30",
          "--types", "prototype,file", "--prototypes", protos, "--vectors", protos + ":/prototypes/vectors",
          "--steer-strength", "2", "--unique-pairs", "--check-naive", quiet=False)
c.check("side-by-side: shared equals naive", "top-1 mismatches 0" in p.stdout, p.stdout)
with h5py.File(out3, "r") as f:
    g = f["steering"]
    c.check("side-by-side: recorded", g.attrs["composite"] == "side-by-side" and g["top1"].shape == (30, 4, 3))
    m = g["mean_output"][:]
    c.check("side-by-side: stored prototypes and the same vectors as a file agree", np.allclose(m[2], m[3]))

# Attention modulation of selective units.
att = c.path("attend.h5")
p = c.run("attend", *model, "--stimuli", digits, "--attend", "1,2", "--layer", "features.9",
          "--localizer-images", "30", "--composites", "25", "--out", att)
with h5py.File(att, "r") as f:
    g = f["attention"]
    c.check("attend: 2×2 table with CIs", g["mean_activation"].shape == (2, 2)
            and g["mean_activation_ci"].shape == (2, 2, 2))
    c.check("attend: selective units found for both categories", np.all(g["n_units"][:] > 0), g["n_units"][:])
    act = g["activation"][:]
    d = act[:, 0, 0] - act[:, 0, 1]
    t = d.mean() / (d.std(ddof=1) / np.sqrt(len(d)))
    c.check("attend: paired t recomputes", abs(t - g["t"][0]) < 1e-6 * max(1, abs(t)), (t, g["t"][0]))
    ma = g["mean_activation"][:]
    ami = (ma[0, 0] - ma[0, 1]) / (ma[0, 0] + ma[0, 1])
    c.check("attend: modulation index from the table", abs(ami - g["modulation_index"][0]) < 1e-9)
ds = xr.open_dataset(att, group="attention", engine="h5netcdf")
c.check("attend: xarray shows unit_type × attended", ds["mean_activation"].dims == ("unit_type", "attended"))

# Prototypes are the same to the last bit whether lrm prototypes stores them or steer and attend
# compute their own for the categories they steer toward, on a set whose categories interleave (the
# same seed: the same random weights).
mixed = c.path("mixed.h5")
images, cats, ids = pattern_images(30, ["0", "1", "2", "3"])
keep = rng.permutation(len(cats))[:100]
with h5py.File(mixed, "w") as f:
    f["images"] = images[keep]
    f["category"] = np.array([cats[i] for i in keep], dtype=h5py.string_dtype())
    f["stimulus"] = np.array([ids[i] for i in keep], dtype=h5py.string_dtype())
mixed_protos = c.path("mixed_protos.h5")
c.run("--seed", "3", "prototypes", *model, "--stimuli", mixed, "--batch-size", "8", "--out", mixed_protos)
runs = {}
for own in (True, False):
    stored = [] if own else ["--prototypes", mixed_protos]
    runs[own] = (c.path(f"mixed_steer_{own}.h5"), c.path(f"mixed_attend_{own}.h5"))
    c.run("--seed", "3", "steer", *model, "--stimuli", mixed, "--batch-size", "8", "--types", "prototype",
          "--steer-strength", "3", "--composites", "12", "--out", runs[own][0], *stored)
    c.run("--seed", "3", "attend", *model, "--stimuli", mixed, "--batch-size", "8", "--attend", "1,2", "--layer",
          "features.9", "--localizer-images", "8", "--composites", "8", "--out", runs[own][1], *stored)
with h5py.File(runs[True][0], "r") as a, h5py.File(runs[False][0], "r") as b:
    c.check("steer: its own prototypes and lrm prototypes' give bit-identical outputs",
            np.array_equal(a["steering/output"][:], b["steering/output"][:]))
with h5py.File(runs[True][1], "r") as a, h5py.File(runs[False][1], "r") as b:
    c.check("attend: its own prototypes and lrm prototypes' give bit-identical activations",
            np.array_equal(a["attention/activation"][:], b["attention/activation"][:]))

# Bad input.
steer = ["steer", *model, "--stimuli", digits, "--out", c.path("bad.h5"), "--composites", "5"]
c.bad_input("alpha 0", steer + ["--steer-strength", "1,0"], "--steer-strength")
c.bad_input("alpha negative (attend)", ["attend", *model, "--stimuli", digits, "--attend", "1,2", "--layer",
                                        "features.9", "--steer-strength=-1", "--out", c.path("bad.h5")],
            "--steer-strength")
c.bad_input("gain NaN", steer + ["--steer-strength", "nan"], "--steer-strength")
c.bad_input("gain of sigma- negative", steer + ["--steer-strength", "-1:2"], "--steer-strength")
c.bad_input("composites that cannot fit in memory", steer + ["--composites", "100000000"], "--composites")
c.bad_input("confidence level outside (0, 1)", steer + ["--level", "1.5"], "--level")
c.bad_input("no resamples", steer + ["--resamples", "0"], "--resamples")
c.bad_input("one pass cannot steer", steer + ["--num-passes", "1"], "--num-passes")
c.bad_input("unknown rate correction", steer + ["--correction", "laplace"], "--correction")
attend = ["attend", *model, "--stimuli", digits, "--layer", "features.9", "--out", c.path("bad.h5")]
c.bad_input("attend the same category twice", attend + ["--attend", "1,1"], "--attend")
c.bad_input("attend with FDR level NaN", attend + ["--attend", "1,2", "--q", "nan"], "--q")
c.bad_input("prototypes of pass -1", ["prototypes", *model, "--stimuli", digits, "--pass", "-1", "--out",
                                      c.path("bad.h5")], "--pass")
c.bad_input("fewer than 3 categories", steer + ["--categories", "0,1"], "3 distinct categories")
with h5py.File(c.path("wide.h5"), "w") as f:
    f["v"] = np.ones((4, 12), np.float32)
c.bad_input("vector file of the wrong width", steer + ["--types", "file", "--vectors", c.path("wide.h5") + ":/v"],
            "wide.h5")
few = c.path("few_protos.h5")
c.run("prototypes", *model, "--stimuli", digits, "--categories", "0,1,2", "--out", few)
c.bad_input("prototype of a category with no exemplars", steer + ["--types", "prototype", "--prototypes", few],
            "'3'")
c.bad_input("attend category with no exemplars", ["attend", *model, "--stimuli", digits, "--attend", "1,7",
                                                  "--layer", "features.9", "--out", c.path("bad.h5")], "'7'")
c.bad_input("unknown vector type", steer + ["--types", "clip"], "clip")
# Overlays of images of different sizes (a folder set, no resizing).
folder = c.path("sizes")
for k, name in enumerate(["a", "b", "c"]):
    os.makedirs(os.path.join(folder, name))
    for i in range(4):
        w = 28 if name == "a" else 32
        Image.fromarray(rng.integers(0, 255, size=(28, w)).astype(np.uint8)).save(
            os.path.join(folder, name, f"{i}.png"))
c.bad_input("overlay of different sizes", ["steer", *model, "--stimuli", folder, "--types", "one-hot",
                                           "--composites", "20", "--out", c.path("bad.h5")], "size")
c.check("bad input leaves no result", not os.path.exists(c.path("bad.h5")))
c.finish()
