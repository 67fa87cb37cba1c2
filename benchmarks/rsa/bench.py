#!/usr/bin/python3
"""Model-inference benchmark (issue 13, item 7): `lrm compare rsa --inference stimuli` (R = 1,000
resamples) of 20 layer x pass RDMs (random 92 x 100 features) against the 4 Kriegeskorte subjects (92
stimuli, Spearman, pooled ceiling) against a numpy reimplementation of the same bootstrap, on the
same data in one run, ratio printed (the CKA benchmark is bench_cka.py).

The numpy reference is written as a competent user would vectorise rsatoolbox's
eval_bootstrap_pattern: per resample, the RDM vectors of the drawn stimuli (pairs of the same
stimulus dropped) as one index into the upper triangles, scipy's rankdata along the rows of all
20 models and 4 subjects at once, the model x subject Spearman matrix as one product of z-scored
ranks, the pooled (rank-averaged) leave-one-out and full ceilings, then the covariance, the n/(n-1)
correction and the pairwise t-tests. lrm's time is the whole command (HDF5 and .mat reads, model
RDMs, the per-model scores, then the inference; `--inference` alone runs its default 1,000
resamples without the per-model `--bootstrap` CIs, which numpy does not compute either); numpy's
starts from the features in memory. Thread counts: 2 (OMP, OpenBLAS). lrm runs before and after numpy (the
faster run counts); wall and CPU seconds (user + system, all threads) are printed, the CPU ratio
being the steadier on a loaded machine. The bootstrap SDs of both are printed as a check (their
draws differ, so they agree within resampling noise only).
Usage: bench.py LRM WORKDIR [--resamples R]
"""
import argparse
import os
import resource
import subprocess
import time

import h5py
import numpy as np
import scipy.io as sio
from scipy.stats import rankdata, t as tdist

p = argparse.ArgumentParser()
p.add_argument("lrm")
p.add_argument("work")
p.add_argument("--resamples", type=int, default=1000)
a, _ = p.parse_known_args()  # run.sh passes the CKA benchmark's options too
os.makedirs(a.work, exist_ok=True)


def timed(f):
    t0 = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t0


def load():
    return os.getloadavg()[0]


k2008 = "neural_data/kriegeskorte2008/92_brainRDMs.mat"
brain = sio.loadmat(k2008)["RDMs"]
subjects = np.stack([(brain[0, s, 0]["RDM"] + brain[0, s, 1]["RDM"]) / 2 for s in range(4)])
n = 92
rng = np.random.default_rng(0)
acts92 = os.path.join(a.work, "acts92.h5")
feats = []
with h5py.File(acts92, "w") as f:
    for layer in range(10):
        f[f"activations/l{layer}/stimulus"] = np.array([f"k{i}" for i in range(n)], dtype=object)
        for pas in (0, 1):
            v = rng.standard_normal((n, 100)).astype(np.float32)
            f[f"activations/l{layer}/pass{pas}"] = v
            feats.append(v)


def zrows(r):
    r = r - r.mean(1, keepdims=True)
    return r / np.sqrt((r * r).sum(1, keepdims=True))


def numpy_inference():
    iu = np.triu_indices(n, 1)
    models = np.stack([(1 - np.corrcoef(v.astype(np.float64)))[iu] for v in feats])
    subj = np.stack([s[iu] for s in subjects])
    draws = np.random.default_rng(1)
    a_all, b_all = iu
    samples = []
    for _ in range(a.resamples):
        idx = np.sort(draws.integers(0, n, n))
        i, j = idx[a_all], idx[b_all]
        keep = i != j
        i, j = i[keep], j[keep]
        flat = i * n - i * (i + 1) // 2 + (j - i - 1)
        rm = zrows(rankdata(models[:, flat], axis=1))
        rs = rankdata(subj[:, flat], axis=1)
        zs = zrows(rs)
        evals = (rm @ zs.T).mean(1)
        total = rs.sum(0)
        lower = np.mean([zs[q] @ zrows(rankdata((total - rs[q]) / 3)[None])[0] for q in range(4)])
        upper = np.mean(zs @ zrows(rankdata(total)[None])[0])
        samples.append(np.r_[evals, lower, upper])
    samples = np.array(samples)
    cov = np.cov(samples.T) * n / (n - 1)
    means = samples.mean(0)
    m = len(models)
    p = np.full((m, m), np.nan)
    for x in range(m):
        for y in range(m):
            if x != y:
                var = cov[x, x] + cov[y, y] - 2 * cov[x, y]
                p[x, y] = 2 * tdist.sf(abs(means[x] - means[y]) / np.sqrt(var), n - 1)
    return np.sqrt(np.diag(cov)[:m])


def cpu(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


out = os.path.join(a.work, "inference.h5")
command = [a.lrm, "--quiet", "compare", "rsa", "--activations", acts92, "--brain", k2008,
           "--inference", "stimuli", "--out", out]
if a.resamples != 1000:  # --bootstrap also adds the per-model CIs
    command[-2:-2] = ["--bootstrap", str(a.resamples)]


def run_lrm():
    before = cpu(resource.RUSAGE_CHILDREN)
    _, wall = timed(lambda: subprocess.run(command, check=True))
    return wall, cpu(resource.RUSAGE_CHILDREN) - before


load_before = load()
lrm_runs = [run_lrm()]
cpu_before = cpu(resource.RUSAGE_SELF)
sd_np, t_np = timed(numpy_inference)
c_np = cpu(resource.RUSAGE_SELF) - cpu_before
lrm_runs.append(run_lrm())
load_after = load()
t_lrm, c_lrm = min(lrm_runs)
with h5py.File(out) as f:
    sd_lrm = f["rsa/inference/evaluation_sd"][()]
print(f"inference, 20 models x {a.resamples} resamples x 92 stimuli (stimulus bootstrap, 4 subjects, "
      f"spearman, pooled ceiling), 2 threads: lrm {t_lrm:.2f} s wall, {c_lrm:.2f} s CPU (whole "
      f"command); numpy {t_np:.2f} s wall, {c_np:.2f} s CPU: {t_np / t_lrm:.1f}x wall, "
      f"{c_np / c_lrm:.1f}x CPU; load average {load_before:.1f} before, {load_after:.1f} after on "
      f"{os.cpu_count()} cores; bootstrap SD lrm / numpy: median {np.median(sd_lrm / sd_np):.3f} "
      f"(different draws)")
