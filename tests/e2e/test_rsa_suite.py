#!/usr/bin/python3
"""End-to-end checks of the rsatoolbox-standard parts of lrm compare rsa: pooled noise ceilings,
crossnobis RDMs, and the bad inputs of each (one line, exit 2).

Usage: test_rsa_suite.py path/to/lrm   (run from the repository root)
"""
import os
import subprocess
import sys

import h5py
import numpy as np
import xarray as xr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lrm_e2e import Checks, write_activations  # noqa: E402
from rsa_inputs import BRAIN as brain, TWO_SUBJECTS as two, write_latent_activations  # noqa: E402

t = Checks("rsa_suite")
parity = h5py.File("tests/fixtures/compare/rsa_parity/rsa_parity.h5", "r")
old = h5py.File("tests/fixtures/compare/rsa_fixture.h5", "r")


def ceiling(*extra):
    out = t.path(f"nc{len(os.listdir(t.tmp))}.h5")
    t.run("compare", "rsa", "--brain", brain, "--noise-ceiling", "--out", out, *extra)
    with h5py.File(out, "r") as f:
        return f["rsa/noise_ceiling_lower"][()], f["rsa/noise_ceiling_upper"][()], f["rsa"].attrs["ceiling_pool"]


# Pooled by default, as rsatoolbox's boot_noise_ceiling; --ceiling-pool mean gives the old figures.
for comparison in ("spearman", "pearson", "cosine"):
    lo, up, pool = ceiling("--comparison", comparison)
    want = parity[f"ceiling/{comparison}/lower"][()], parity[f"ceiling/{comparison}/upper"][()]
    t.check(f"pooled {comparison} ceiling equals rsatoolbox's", pool == "pooled"
            and abs(lo - want[0]) < 1e-9 and abs(up - want[1]) < 1e-9, f"{lo} {up} vs {want}")
lo, up, pool = ceiling("--ceiling-pool", "mean")
t.check("--ceiling-pool mean keeps the plain-mean ceiling", pool == "mean"
        and abs(lo - old["noise_ceiling/spearman/lower"][()]) < 1e-12
        and abs(up - old["noise_ceiling/spearman/upper"][()]) < 1e-12)
t.bad_input("unknown ceiling pool", ["compare", "rsa", "--brain", brain, "--noise-ceiling",
                                     "--ceiling-pool", "median", "--out", t.path("x.h5")], "--ceiling-pool")


def responses(path, runs=True, run_values=None):
    """The fixture's crossnobis responses as a brainio-style .nc (6 stimuli, 4 runs, 10 neuroids)."""
    cn = parity["crossnobis"]
    coords = {"stimulus_id": ("presentation", [f"s{c}" for c in cn["condition"][()]]),
              "neuroid_id": ("neuroid", [f"n{i}" for i in range(10)])}
    if runs:
        values = run_values if run_values is not None else cn["run"][()]
        coords["run"] = ("presentation", [f"run{r}" for r in values])
    xr.DataArray(cn["measurements"][()], dims=("presentation", "neuroid"),
                 coords=coords).rename("responses").to_netcdf(path, engine="h5netcdf")
    return path


acts = t.path("acts6.h5")
write_activations(acts, {"fc/pass0": np.random.default_rng(1).standard_normal((6, 20))}, [f"s{i}" for i in range(6)])
nc = responses(t.path("runs.nc"))
for noise in ("measurements", "residuals", "identity"):
    out = t.path(f"cn_{noise}.h5")
    t.run("compare", "rsa", "--activations", acts, "--brain", nc, "--brain-rdm", "crossnobis",
          "--noise-precision", noise, "--out", out)
    with h5py.File(out, "r") as f:
        got, want = f["rsa/brain_rdm_mean"][()], parity[f"crossnobis/rdm_{noise}"][()]
        t.check(f"crossnobis ({noise}) RDM equals rsatoolbox's", np.abs(got - want).max() < 1e-9,
                f"max diff {np.abs(got - want).max()}")
cv = t.path("cv.h5")
t.run("compare", "rsa", "--activations", acts, "--brain", nc, "--brain-rdm", "crossvalidated-euclidean",
      "--out", cv)
t.check("crossvalidated-euclidean runs", os.path.exists(cv))
crossnobis = ["compare", "rsa", "--activations", acts, "--brain-rdm", "crossnobis", "--out", t.path("bad.h5"),
              "--brain"]
t.bad_input("crossnobis without run labels", crossnobis + [responses(t.path("noruns.nc"), runs=False)],
            "run labels")
t.bad_input("crossnobis with a single run",
            crossnobis + [responses(t.path("onerun.nc"), run_values=np.zeros(48, int))], "at least 2 runs")


def numpy_cka(x, y, debiased):
    """Linear CKA from the published HSIC formulas (biased tr(KHLH); Song et al.'s unbiased)."""
    def hsic(k, l):
        n = len(k)
        if not debiased:
            h = np.eye(n) - 1 / n
            return np.trace(k @ h @ l @ h)
        k, l = k.copy(), l.copy()
        np.fill_diagonal(k, 0)
        np.fill_diagonal(l, 0)
        return np.trace(k @ l) + k.sum() * l.sum() / ((n - 1) * (n - 2)) - 2 / (n - 2) * k.sum(0) @ l.sum(1)
    k, l = x @ x.T, y @ y.T
    return hsic(k, l) / np.sqrt(hsic(k, k) * hsic(l, l))


# CKA map: every layer x pass against every other, equal to numpy.
maps = t.path("acts_cka.h5")
rng = np.random.default_rng(5)
feats = {f"{layer}/pass{p}": rng.standard_normal((30, units)).astype(np.float32) + p
         for layer, units in (("conv", 40), ("fc", 12)) for p in (0, 1)}
write_activations(maps, feats, [f"s{i}" for i in range(30)])
for debiased in (False, True):
    out = t.path(f"cka{int(debiased)}.h5")
    t.run("compare", "cka", "--activations", maps, "--out", out, *(["--debiased"] if debiased else []))
    with h5py.File(out, "r") as f:
        labels = [l.decode() if isinstance(l, bytes) else l for l in f["cka/model"][()]]
        got = f["cka/cka"][()]
    want = np.array([[numpy_cka(feats[a].astype(np.float64), feats[b].astype(np.float64), debiased)
                      for b in labels] for a in labels])
    t.check(f"CKA map ({'debiased' if debiased else 'biased'}) equals numpy", np.abs(got - want).max() < 1e-9,
            f"max diff {np.abs(got - want).max()}")


# Inference between the layers x passes of one run (Kriegeskorte 4 subjects, 92 stimuli).
acts92 = t.path("acts92.h5")
write_latent_activations(acts92, np.random.default_rng(0), {"conv": 60, "fc": 30}, n_latent=6)
out = t.path("inference.h5")
t.run("compare", "rsa", "--activations", acts92, "--brain", brain, "--inference", "both",
      "--bootstrap", "60", "--noise-ceiling", "--out", out)
with h5py.File(out, "r") as f:
    inf = f["rsa/inference"]
    p = inf["p_pairwise"][()]
    t.check("inference: model x model p, FDR-adjusted p and differences",
            p.shape == (4, 4) and inf["p_pairwise_fdr"].shape == (4, 4) and inf["difference"].shape == (4, 4)
            and np.all(np.isnan(np.diag(p))) and np.nanmin(p) >= 0 and np.nanmax(p) <= 1
            and np.allclose(p, p.T, equal_nan=True))
    t.check("inference: evaluation is the mean score",
            np.allclose(inf["evaluation"][()], f["rsa/r_mean"][()], atol=1e-12))
    t.check("inference: the ceiling is the pooled ceiling",
            abs(inf["noise_ceiling_lower"][()] - f["rsa/noise_ceiling_lower"][()]) < 1e-12)
    t.check("inference: tests vs 0, vs the lower ceiling, ceiling vs chance",
            inf["p_vs_zero"].shape == (4,) and inf["p_vs_lower_ceiling"].shape == (4,)
            and 0 <= inf["p_ceiling_vs_chance"][()] <= 1 and inf.attrs["dof"] == 3)
t.bad_input("subject bootstrap with 2 subjects", ["compare", "rsa", "--activations", acts92, "--brain", two,
                                                  "--inference", "subjects", "--out", t.path("bad2.h5")],
            "at least 3 subjects")


# Figures: the model comparison, the CKA map and the MDS of RDMs.
figs = t.path("figures")
for results, script in ((out, "rsa"), (t.path("cka1.h5"), "rsa")):
    subprocess.run([sys.executable, f"reports/{script}.py", results, "--out", figs], check=True,
                   capture_output=True)
rdms = t.path("rdms.h5")
t.run("compare", "rsa", "--activations", acts92, "--brain", brain, "--save-rdms", "--out", rdms)
subprocess.run([sys.executable, "reports/rdm.py", rdms, "--out", figs], check=True, capture_output=True)
made = sorted(os.listdir(figs))
t.check("report: model comparison, CKA map and MDS figures",
        all(f"{stem}.png" in made for stem in ("rsa_models-92_brainRDMs", "rsa_cka-map", "rdm_mds")), made)


# Weighted RSA and variance partitioning of model RDMs saved by compare rsa --save-rdms.
comps = [f"{rdms}:/rsa/model_rdm/{layer}/pass{k}" for layer, k in (("conv", 0), ("fc", 1))]
wout = t.path("weighted.h5")
t.run("compare", "weighted", "--brain", brain, "--components", comps[0], "--components", comps[1],
      "--vpa", "--bootstrap", "20", "--out", wout)
with h5py.File(wout, "r") as f:
    w = f["weighted"]
    t.check("weighted RSA: non-negative weights, a cross-validated score, a variance partition",
            w["weights"].shape == (2,) and np.all(w["weights"][()] >= 0) and np.isfinite(w["score_cv"][()])
            and w["vpa/explained_variance"].shape == (3,) and w["vpa/ci_low"].shape == (3,))
small = t.path("rdms6.h5")
t.run("compare", "rsa", "--activations", acts, "--brain", nc, "--brain-rdm", "crossnobis", "--save-rdms",
      "--out", small)
t.bad_input("component RDMs of other stimuli",
            ["compare", "weighted", "--brain", brain, "--components", f"{small}:/rsa/model_rdm/fc/pass0",
             "--out", t.path("bad3.h5")], "other stimuli")

t.finish()
