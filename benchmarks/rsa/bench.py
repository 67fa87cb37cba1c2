#!/usr/bin/python3
"""RSA benchmarks: lrm against numpy on the same data in one run, ratio printed.

cka: linear CKA of two 5,000 x 50,000 float32 representations (one layer, passes 0 and 1) by
  `lrm compare cka` against numpy's Gram form (X X' and Y Y' by BLAS, centred, Frobenius products),
  in float32 and in float64 (as Kornblith et al.'s reference code is usually run).
inference: `lrm compare rsa --inference stimuli --bootstrap 1000` of 20 layer x pass RDMs against the
  4 Kriegeskorte subjects (92 stimuli, Spearman, pooled ceiling) against a numpy reimplementation
  of the same bootstrap (resampled stimuli, pairs of the same stimulus dropped, scipy ranks, the
  pooled ceiling per resample, t-tests).
Usage: bench.py LRM WORKDIR [--stimuli N --units P]
"""
import argparse
import os
import subprocess
import time

import h5py
import numpy as np
import scipy.io as sio
from scipy.stats import rankdata, t as tdist

p = argparse.ArgumentParser()
p.add_argument("lrm")
p.add_argument("work")
p.add_argument("--stimuli", type=int, default=5000)
p.add_argument("--units", type=int, default=50000)
p.add_argument("--resamples", type=int, default=1000)
a = p.parse_args()
os.makedirs(a.work, exist_ok=True)


def timed(f):
    t0 = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t0


def numpy_cka(x, y, dtype):
    def centred(z):
        z = z.astype(dtype, copy=False)
        k = (z @ z.T).astype(np.float64)
        m = k.mean(0)
        return k - m[:, None] - m[None, :] + m.mean()
    kx, ky = centred(x), centred(y)
    return (kx * ky).sum() / np.sqrt((kx * kx).sum() * (ky * ky).sum())


# CKA.
rng = np.random.default_rng(0)
acts = os.path.join(a.work, "cka_acts.h5")
latent = rng.standard_normal((a.stimuli, 64)).astype(np.float32)
x = latent @ rng.standard_normal((64, a.units)).astype(np.float32) + rng.standard_normal(
    (a.stimuli, a.units), dtype=np.float32)
y = np.maximum(x + rng.standard_normal((a.stimuli, a.units), dtype=np.float32), 0)
with h5py.File(acts, "w") as f:
    f["activations/layer/stimulus"] = np.array([f"s{i}" for i in range(a.stimuli)], dtype=object)
    f["activations/layer/pass0"] = x
    f["activations/layer/pass1"] = y
out = os.path.join(a.work, "cka.h5")
_, t_lrm = timed(lambda: subprocess.run([a.lrm, "--quiet", "compare", "cka", "--activations", acts,
                                         "--out", out], check=True))
with h5py.File(out) as f:
    ours = f["cka/cka"][0, 1]
want32, t32 = timed(lambda: numpy_cka(x, y, np.float32))
want64, t64 = timed(lambda: numpy_cka(x, y, np.float64))
print(f"CKA {a.stimuli} x {a.units}: lrm {t_lrm:.1f} s (whole command, file read included); "
      f"numpy float32 {t32:.1f} s ({t32 / t_lrm:.2f}x), float64 {t64:.1f} s ({t64 / t_lrm:.2f}x); "
      f"|lrm - numpy64| = {abs(ours - want64):.2e}")
del x, y

# Inference: 20 models x resamples on 92 stimuli.
k2008 = "neural_data/kriegeskorte2008/92_brainRDMs.mat"
brain = sio.loadmat(k2008)["RDMs"]
subjects = np.stack([(brain[0, s, 0]["RDM"] + brain[0, s, 1]["RDM"]) / 2 for s in range(4)])
acts92 = os.path.join(a.work, "acts92.h5")
feats = {}
with h5py.File(acts92, "w") as f:
    for layer in range(10):
        f[f"activations/l{layer}/stimulus"] = np.array([f"k{i}" for i in range(92)], dtype=object)
        for pas in (0, 1):
            v = rng.standard_normal((92, 100)).astype(np.float32)
            f[f"activations/l{layer}/pass{pas}"] = feats[(layer, pas)] = v
out = os.path.join(a.work, "inference.h5")
_, t_lrm = timed(lambda: subprocess.run(
    [a.lrm, "--quiet", "compare", "rsa", "--activations", acts92, "--brain", k2008, "--inference",
     "stimuli", "--bootstrap", str(a.resamples), "--out", out], check=True))
iu = np.triu_indices(92, 1)
models = np.stack([(1 - np.corrcoef(v.astype(np.float64)))[iu] for v in feats.values()])
subj = np.stack([s[iu] for s in subjects])


def spearman(u, v):
    return np.corrcoef(rankdata(u), rankdata(v))[0, 1]


def numpy_inference():
    draws = np.random.default_rng(1)
    samples = []
    for _ in range(a.resamples):
        idx = draws.integers(0, 92, 92)
        i, j = np.triu_indices(92, 1)
        keep = idx[i] != idx[j]
        pi, pj = np.minimum(idx[i], idx[j])[keep], np.maximum(idx[i], idx[j])[keep]
        flat = pi * 92 - pi * (pi + 1) // 2 + (pj - pi - 1)
        m, s = models[:, flat], subj[:, flat]
        evals = [np.mean([spearman(mm, ss) for ss in s]) for mm in m]
        ranks = np.stack([rankdata(ss) for ss in s])
        lower = np.mean([spearman(s[q], np.delete(ranks, q, 0).mean(0)) for q in range(4)])
        upper = np.mean([spearman(s[q], ranks.mean(0)) for q in range(4)])
        samples.append(evals + [lower, upper])
    samples = np.array(samples)
    cov = np.cov(samples.T)
    n = len(models)
    p = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(n):
            if i != j:
                var = cov[i, i] + cov[j, j] - 2 * cov[i, j]
                p[i, j] = 2 * tdist.sf(abs(samples[:, i].mean() - samples[:, j].mean()) / np.sqrt(var), 91)
    return p


_, t_np = timed(numpy_inference)
print(f"inference 20 models x {a.resamples} resamples x 92 stimuli (stimulus bootstrap, 4 subjects, "
      f"spearman, pooled ceiling): lrm {t_lrm:.2f} s (whole command), numpy {t_np:.1f} s: "
      f"{t_np / t_lrm:.1f}x")
