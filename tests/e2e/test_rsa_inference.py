#!/usr/bin/python3
"""End-to-end checks of `lrm compare rsa --inference` (issue 13, item 3): Kendall's taus in the
bootstrap, the model-vs-lower-ceiling and ceiling-vs-chance tests recomputed from the written
resamples, the same arrays whatever the thread count, and the bad inputs (one line, exit 2).
(rsatoolbox parity on fixed resamples: tests/unit/core/test_rsa_inference_parity.cpp.)

Usage: test_rsa_inference.py path/to/lrm   (run from the repository root)
"""
import os
import sys

import h5py
import numpy as np
from scipy import stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lrm_e2e import Checks, write_activations  # noqa: E402
from rsa_inputs import BRAIN as brain, IDS, TWO_SUBJECTS as two, write_latent_activations  # noqa: E402

t = Checks("rsa_inference")

acts = t.path("acts92.h5")
rng = np.random.default_rng(3)
write_latent_activations(acts, rng, {"conv": 40, "fc": 20}, n_latent=5)


def inference(name, *args, env=None):
    out = t.path(f"{name}.h5")
    t.run("compare", "rsa", "--activations", acts, "--brain", brain, "--noise-ceiling", "--out", out,
          *args, env=env)
    return h5py.File(out, "r")


# Kendall's taus: the inference's scores on all data are the plain comparison's, and its ceiling
# the plain pooled ceiling (the same taus, counted over the pairs with multiplicities).
for tau in ("kendall_tau_a", "kendall_tau_b"):
    with inference(tau, "--comparison", tau, "--inference", "stimuli", "--bootstrap", "30",
                   "--save-rdms") as f:
        inf = f["rsa/inference"]
        t.check(f"{tau}: inference evaluation equals the plain comparison",
                np.allclose(inf["evaluation"][()], f["rsa/r_mean"][()], atol=1e-12, rtol=0))
        t.check(f"{tau}: inference ceiling equals the plain pooled ceiling",
                abs(inf["noise_ceiling_lower"][()] - f["rsa/noise_ceiling_lower"][()]) < 1e-12)
        samples = inf["bootstrap_samples"][()]
        t.check(f"{tau}: every resample scored, taus within [-1, 1]",
                np.isfinite(samples).all() and np.abs(samples).max() <= 1)

# The ceiling-vs-chance and model-vs-lower-ceiling tests from the written resamples: the stimulus
# bootstrap's covariance x n/(n-1), t-tests on the means over resamples (rsatoolbox's t_test_nc and
# t_test_0), dof = stimuli - 1.
with inference("spearman", "--inference", "stimuli", "--bootstrap", "80") as f:
    inf = f["rsa/inference"]
    s = inf["bootstrap_samples"][()]
    n_models = s.shape[1] - 2
    cov = np.cov(s.T) * 92 / 91
    mean = s.mean(0)
    contrast = np.zeros((n_models, s.shape[1]))
    contrast[:, :n_models] = np.eye(n_models)
    contrast[:, n_models] = -1
    var = np.einsum("ij,jk,ik->i", contrast, cov, contrast)
    p_nc = 2 * stats.t.sf(np.abs(mean[:n_models] - mean[n_models]) / np.sqrt(var), 91)
    p_chance = stats.t.sf(mean[n_models] / np.sqrt(cov[n_models, n_models]), 91)
    t.check("model vs lower ceiling: two-sided t on the bootstrap (recomputed)",
            np.allclose(inf["p_vs_lower_ceiling"][()], p_nc, atol=1e-9, rtol=0))
    t.check("lower ceiling vs chance: one-sided t on the bootstrap (recomputed)",
            abs(inf["p_ceiling_vs_chance"][()] - p_chance) < 1e-9)
    t.check("the bootstrap means are written",
            np.allclose(inf["evaluation_bootstrap_mean"][()], mean[:n_models], atol=1e-12)
            and abs(inf["noise_ceiling_lower_bootstrap_mean"][()] - mean[n_models]) < 1e-12)

# Resample b is drawn from (seed, b) and scored on its own: the same arrays on 1 or 2 threads.
runs = []
for threads in ("1", "2"):
    env = dict(os.environ, OMP_NUM_THREADS=threads)
    with inference(f"threads{threads}", "--inference", "both", "--bootstrap", "40", env=env) as f:
        inf = f["rsa/inference"]
        runs.append({k: inf[k][()] for k in ("bootstrap_samples", "p_pairwise", "p_pairwise_fdr",
                                              "evaluation_sd", "p_ceiling_vs_chance")})
t.check("dual bootstrap: identical arrays on 1 and 2 threads",
        all(np.array_equal(runs[0][k], runs[1][k], equal_nan=True) for k in runs[0]))

# Bad input.
for over in ("subjects", "both"):
    t.bad_input(f"a bootstrap over {over} with 2 subjects",
                ["compare", "rsa", "--activations", acts, "--brain", two, "--inference", over,
                 "--out", t.path(f"bad_{over}.h5")], "at least 3 subjects")
constant = t.path("constant.h5")
write_activations(constant, {"l/pass0": np.tile(rng.standard_normal(30), (92, 1))}, IDS)
t.bad_input("Kendall's tau-b of a constant model RDM (every pair tied)",
            ["compare", "rsa", "--activations", constant, "--brain", brain, "--comparison",
             "kendall_tau_b", "--inference", "stimuli", "--out", t.path("bad_const.h5")], "constant")
t.bad_input("Kendall's tau as the weighted fit's objective",
            ["compare", "weighted", "--brain", brain, "--components",
             t.path("kendall_tau_b.h5") + ":/rsa/model_rdm/conv/pass0",
             t.path("kendall_tau_b.h5") + ":/rsa/model_rdm/fc/pass1", "--comparison",
             "kendall_tau_b", "--out", t.path("bad_weighted.h5")], "comparison")

t.finish()
