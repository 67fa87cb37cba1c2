#!/usr/bin/python3
"""End-to-end checks of lrm compare weighted (rsatoolbox's fit_optimize_positive, nnls, VPA) and
of lrm compare cka against brain responses, with their bad inputs (one line, exit 2).

Usage: test_rsa_weighted.py path/to/lrm   (run from the repository root)
"""
import os
import subprocess
import sys

import h5py
import numpy as np
import xarray as xr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, "tests/fixtures/rsa")
from gen_cka import cka as numpy_cka  # noqa: E402  (the fixture's numpy reference)
from lrm_e2e import Checks  # noqa: E402

t = Checks("rsa_weighted")
fixture = "tests/fixtures/rsa/weighted.h5"
ref = h5py.File(fixture, "r")
subjects, components = f"{fixture}:/subjects", f"{fixture}:/components"

# Weighted RSA as rsatoolbox's ModelWeighted + fit_optimize_positive (exact optimum of its
# objective), cross-validated over 3 stimulus x 2 subject folds.
for comparison in ("pearson", "cosine"):
    out = t.path(f"weighted_{comparison}.h5")
    t.run("compare", "weighted", "--brain", subjects, "--components", components, "--comparison",
          comparison, "--folds", "3", "--out", out)
    with h5py.File(out, "r") as f:
        w = f["weighted"]
        got = w["weights"][()]
        t.check(f"optimize ({comparison}): weights are rsatoolbox's optimum",
                np.abs(got - ref[f"{comparison}/exact"][()]).max() < 1e-9
                and np.abs(got - ref[f"{comparison}/theta"][()]).max() < 1e-4, got)
        objective = w["objective"][()]
        theirs = ref[f"{comparison}/objective"][()]
        t.check(f"optimize ({comparison}): objective within 1e-6 of fit_optimize_positive's",
                -1e-12 <= objective - theirs < 1e-6, f"{objective} vs {theirs}")
        t.check(f"optimize ({comparison}): 6 folds scored", w["fold_score"].shape == (6,)
                and w.attrs["subject_folds"] == 2 and np.isfinite(w["score_cv"][()]))

vpa = t.path("vpa.h5")
three = t.path("three.h5")
with h5py.File(three, "w") as f:
    f["rdms"] = ref["components"][:3]
t.run("compare", "weighted", "--brain", subjects, "--components", f"{three}:/rdms", "--fit", "nnls",
      "--vpa", "--bootstrap", "20", "--out", vpa)
with h5py.File(vpa, "r") as f:
    w = f["weighted"]
    parts = w["vpa/explained_variance"][()]
    t.check("nnls fit with an intercept and a 3-way variance partition with CIs",
            w.attrs["fit"] == "nnls" and np.all(w["weights"][()] >= 0) and parts.shape == (7,)
            and np.all(w["vpa/ci_low"][()] <= parts + 1e-12) and np.all(w["vpa/ci_high"][()] >= parts - 1e-12))

small = t.path("small.h5")
with h5py.File(small, "w") as f:
    f["rdms"] = ref["components"][:1, :10, :10]
t.bad_input("component RDMs of other stimuli",
            ["compare", "weighted", "--brain", subjects, "--components", f"{small}:/rdms", "--out",
             t.path("bad1.h5")], "other stimuli")
t.bad_input("more subject folds than subjects",
            ["compare", "weighted", "--brain", subjects, "--components", components, "--subject-folds",
             "5", "--out", t.path("bad_sf.h5")], "--subject-folds")
t.bad_input("optimize with a rank comparison",
            ["compare", "weighted", "--brain", subjects, "--components", components, "--comparison",
             "spearman", "--out", t.path("bad2.h5")], "--comparison")


# CKA of each layer x pass against brain responses (repetitions averaged, joined by stimulus id).
cb = h5py.File("tests/fixtures/rsa/cka_brain.h5", "r")
model_ids = [s.decode() for s in cb["model_ids"][()]]
presented = [s.decode() for s in cb["presentation_ids"][()]]
acts = t.path("acts.h5")
feats = {}
with h5py.File(acts, "w") as f:
    f["activations/fc/stimulus"] = np.array(model_ids, dtype=object)
    for p in (0, 1):
        feats[p] = (cb["model"][()] * (1 + p)).astype(np.float32)
        f[f"activations/fc/pass{p}"] = feats[p]


def brain_nc(path, ids):
    xr.DataArray(cb["responses"][()], dims=("presentation", "neuroid"),
                 coords={"stimulus_id": ("presentation", ids),
                         "neuroid_id": ("neuroid", [f"n{i}" for i in range(cb["responses"].shape[1])])}
                 ).rename("responses").to_netcdf(path, engine="h5netcdf")
    return path


nc = brain_nc(t.path("brain.nc"), presented)
rows = cb["model_rows"][()]
for debiased in (False, True):
    out = t.path(f"cka_brain{int(debiased)}.h5")
    t.run("compare", "cka", "--activations", acts, "--brain", nc, "--out", out,
          *(["--debiased"] if debiased else []))
    with h5py.File(out, "r") as f:
        got = f["cka/cka_brain"][()]
        labels = [l.decode() if isinstance(l, bytes) else l for l in f["cka/model"][()]]
    want = [numpy_cka(feats[int(l[-1])][rows].astype(np.float64), cb["brain_mean"][()], "linear",
                      debiased)
            for l in labels]
    t.check(f"CKA vs brain ({'debiased' if debiased else 'biased'}) equals numpy to 1e-10",
            got.shape == (2,) and np.abs(got - want).max() < 1e-10, f"{got} vs {want}")
    if not debiased:
        # The activations are the fixture's float64 features rounded to float32.
        t.check("CKA vs brain: the fixture's value (float32 activations)",
                abs(got[0] - cb["linear_biased"][()]) < 1e-6, got[0] - cb["linear_biased"][()])

renamed = list(presented)
renamed = ["extra_stimulus" if s == model_ids[-1] else s for s in renamed]
t.bad_input("CKA with brain ids missing on either side",
            ["compare", "cka", "--activations", acts, "--brain", brain_nc(t.path("other.nc"), renamed),
             "--out", t.path("bad3.h5")], "extra_stimulus")
p = t.run("compare", "cka", "--activations", acts, "--brain", t.path("other.nc"), "--out",
          t.path("bad4.h5"), check=False)
t.check("CKA with missing ids names the model's id missing in the brain too", model_ids[-1] in p.stderr,
        p.stderr)

# Weighted RSA with components straight from an activation file: each layer x pass is compare
# rsa's model RDM, so the fit equals the one of the RDMs compare rsa --save-rdms stores.
rng = np.random.default_rng(8)


def write_layers(path):
    """An activation file of layers conv and fc, passes 0 and 1, random activations of model_ids."""
    with h5py.File(path, "w") as f:
        for layer, units in (("conv", 30), ("fc", 12)):
            f[f"activations/{layer}/stimulus"] = np.array(model_ids, dtype=object)
            for p in (0, 1):
                f[f"activations/{layer}/pass{p}"] = rng.standard_normal((len(model_ids), units)).astype(np.float32)
    return path


def read_fit(path):
    with h5py.File(path, "r") as f:
        fit = {k: f[f"weighted/{k}"][()] for k in ("weights", "objective", "score_cv", "fold_score")}
        fit["names"] = [n.decode() if isinstance(n, bytes) else n for n in f["weighted/component"][()]]
        fit["attrs"] = dict(f["weighted"].attrs)
    return fit


def same_fit(a, b):
    return all(np.array_equal(a[k], b[k]) for k in ("weights", "objective", "score_cv", "fold_score"))


layered = write_layers(t.path("layered.h5"))
saved = t.path("saved_rdms.h5")
t.run("compare", "rsa", "--activations", layered, "--brain", nc, "--save-rdms", "--out", saved)
labels = [f"{layer}/pass{p}" for layer in ("conv", "fc") for p in (0, 1)]
fits = {}
for form, given in (("saved", [a for l in labels for a in ("--components", f"{saved}:/rsa/model_rdm/{l}")]),
                         ("activations", ["--components", layered, "--layers", "conv,fc", "--passes", "0,1"])):
    out = t.path(f"weighted_{form}.h5")
    t.run("compare", "weighted", "--brain", nc, *given, "--folds", "3", "--out", out)
    fits[form] = read_fit(out)
t.check("weighted from an activation file: the saved RDMs' weights, objective and score",
        same_fit(fits["saved"], fits["activations"]), fits)
t.check("weighted from an activation file: components named by layer/pass",
        fits["activations"]["names"] == labels, fits["activations"]["names"])
t.bad_input("weighted from an activation file without the layer",
            ["compare", "weighted", "--brain", nc, "--components", layered, "--layers", "conv,v4",
             "--out", t.path("bad5.h5")], "v4")
t.bad_input("weighted from an activation file of other stimuli",
            ["compare", "weighted", "--brain", t.path("other.nc"), "--components", layered, "--out",
             t.path("bad6.h5")], "extra_stimulus")
t.bad_input("weighted --layers without an activation file",
            ["compare", "weighted", "--brain", subjects, "--components", components, "--layers", "fc",
             "--out", t.path("bad7.h5")], "--layers")

# --memory and --allow-partial as compare rsa's: the budget of the RDMs made from activation files
# (one too small for a block of two stimuli is refused naming it), and an unfinished activation
# file read to its complete rows (their count recorded), refused without the option.
activations_fit = ["compare", "weighted", "--brain", nc, "--layers", "conv,fc", "--passes", "0,1",
                   "--folds", "3"]
p = t.run(*activations_fit, "--components", layered, "--memory", "512M", "--out",
          t.path("weighted_512M.h5"), check=False)
t.check("weighted --memory 512M: the default budget's fit", p.returncode == 0
        and same_fit(read_fit(t.path("weighted_512M.h5")), fits["activations"]), p.stderr)
t.bad_input("weighted --memory too small for two stimuli",
            [*activations_fit, "--components", layered, "--memory", "1M", "--out", t.path("bad8.h5")],
            "--memory: 1 MiB is too small")
partial = t.path("partial.h5")
with h5py.File(layered, "r") as whole, h5py.File(partial, "w") as f:
    f.attrs["complete"] = 0
    for layer in ("conv", "fc"):
        f[f"activations/{layer}/stimulus"] = np.array(model_ids + ["unwritten0", "unwritten1"], dtype=object)
        for k in (0, 1):
            x = whole[f"activations/{layer}/pass{k}"][()]
            f[f"activations/{layer}/pass{k}"] = np.vstack([x, np.zeros((2, x.shape[1]), np.float32)])
    f["activations"].attrs["rows_complete"] = len(model_ids)
t.bad_input("weighted from an unfinished activation file without --allow-partial",
            [*activations_fit, "--components", partial, "--out", t.path("bad9.h5")], "--allow-partial")
p = t.run(*activations_fit, "--components", partial, "--allow-partial", "--out", t.path("weighted_partial.h5"),
          check=False)
partial_fit = read_fit(t.path("weighted_partial.h5")) if p.returncode == 0 else {}
t.check("weighted --allow-partial: the complete rows' fit, their count recorded", p.returncode == 0
        and same_fit(partial_fit, fits["activations"])
        and partial_fit["attrs"].get("activations_partial_rows") == len(model_ids), p.stderr)

# Two activation files of the same layers (two models, say): each component is named by its file.
# The same input twice gives a component twice, which is refused naming it.
other = write_layers(t.path("other_model.h5"))
p = t.run("compare", "weighted", "--brain", nc, "--components", layered, "--components", other,
          "--layers", "fc", "--folds", "3", "--out", t.path("weighted_two.h5"), check=False)
t.check("weighted from two activation files: components named <file>#<layer>/pass<k>",
        p.returncode == 0 and read_fit(t.path("weighted_two.h5"))["names"]
        == [f"{f}#fc/pass{k}" for f in (layered, other) for k in (0, 1)], p.stderr)
t.bad_input("weighted with an activation file twice",
            ["compare", "weighted", "--brain", nc, "--components", layered, "--components", layered,
             "--out", t.path("bad10.h5")], f"both give the component '{layered}#conv/pass0'")
t.bad_input("weighted with a file of RDMs twice",
            ["compare", "weighted", "--brain", subjects, "--components", components, "--components",
             components, "--out", t.path("bad11.h5")], f"--components: '{components}' and '{components}' both give")

# The weighted RSA / VPA figure.
figs = t.path("figures")
for results in (vpa, t.path("cka_brain0.h5")):
    subprocess.run([sys.executable, "reports/rsa.py", results, "--out", figs], check=True,
                   capture_output=True)
made = sorted(os.listdir(figs))
t.check("report: the weighted RSA and variance partition figure", "rsa_weighted.png" in made, made)
t.check("report: the CKA map with each layer x pass against the brain", "rsa_cka-map.png" in made, made)

t.finish()
