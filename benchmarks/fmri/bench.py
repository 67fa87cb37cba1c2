#!/usr/bin/python3
"""Voxelwise ridge with a penalty per voxel on a simulated NSD-like subject: lrm compare encode
--regression ridgecv against scikit-learn RidgeCV(alphas, alpha_per_target=True), same data,
split and threads.

The subject, at scale s (1 = NSD's size): 9,000 s stimuli of which 1,000 s are the shared test set
shown twice (10,000 s trials), 30,000 s voxels in 4 ROIs, written as real NIfTI files with nibabel
(4-D betas, an ROI label volume with a label,name CSV, a trials CSV, the shared test ids), and two
layers in lrm extract's layout (compressed float32 rows): "small" of 9,216 units and "big" of
200,000 s units. Each voxel is a linear function of the small layer's features (the true weights)
plus noise, so the simulation knows each voxel's ceiling: the r of its true signal with its mean
test response.

For each layer: lrm's whole command (reading, Gram, fit, scoring, writing; peak memory VmHWM by
/usr/bin/time) and scikit-learn fitted and predicting on 3 voxel subsets; sklearn's time for all
voxels is measured when it fits the time limit, else extrapolated linearly in voxels (fixed cost +
per-voxel cost fitted by least squares to the subsets) and printed as extrapolated.

Cost, n training stimuli, m test, q voxels, p units, 20 penalties (flops; full scale n = 8,000,
m = 1,000, q = 30,000, p = 9,216 / 200,000):
  scikit-learn (gcv_mode "gram", float64): X X^T 2n^2p (1.2e12 / 2.6e13), eigh ~5n^3 (2.5e12),
  Q^T Y 2n^2q (3.8e12), per penalty Q (w o Q^T Y) 2n^2q (x20: 7.7e13), coef = dual^T X 2qnp
  (4.4e12 / 9.6e13), predict 2mpq (5.5e11 / 1.2e13): 8.9e13 / 2.2e14 in all.
  lrm: the Gram n'^2 p over all n' = n + m stimuli (double syrk, 7.5e11 / 1.6e13), eigh, U^T Y,
  the predictions through K_test U (2mn^2 + 2mnq): 7.7e12 / 2.3e13 in double; the 20 penalties'
  leave-one-out residuals 7.7e13 in single precision.
The 20 x 2n^2q term is the same on both sides and most of the work; single precision runs it at
about 2.2x the double rate (sgemm 15.2 vs dgemm 7.0 GFLOP/s measured here at load 7; 59 vs 26 on a
quiet machine), so even with every double flop free lrm is at most 8.9e13/dgemm / (7.7e13/sgemm) =
2.5x (9,216 units) and 6.1x (200,000 units) faster on the same cores; 10x would need fewer
leave-one-out products, not faster ones.

Usage: bench.py LRM WORKDIR [scale] [sklearn_full_limit_s] [layers: small,big]   (threads from
run.sh)
"""
import csv
import os
import subprocess
import sys
import time

import h5py
import nibabel as nib
import numpy as np
from sklearn.linear_model import RidgeCV

lrm, work = sys.argv[1], sys.argv[2]
scale = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
full_limit = float(sys.argv[4]) if len(sys.argv) > 4 else 300.0
LAYERS = sys.argv[5].split(",") if len(sys.argv) > 5 else ["small", "big"]
N_STIM, N_TEST = round(9000 * scale), round(1000 * scale)
N_VOX, SMALL, BIG, LATENT = round(30000 * scale), 9216, round(200000 * scale), 32
ROIS = ["V1", "V4", "FFA", "PPA"]
ALPHAS = np.logspace(-2, 6, 20)
BOUND = 12 * 2**30
os.makedirs(work, exist_ok=True)
p = lambda name: os.path.join(work, name)  # noqa: E731
ids = np.array([f"nsd{i:05d}" for i in range(N_STIM)], dtype=object)


def load():
    return f"load average {os.getloadavg()[0]:.1f}"


def simulate():
    rng = np.random.default_rng(14)
    latent = rng.standard_normal((N_STIM, LATENT), dtype=np.float32)
    layers = {}
    for name, units in (("small", SMALL), ("big", BIG)):
        w = rng.standard_normal((LATENT, units), dtype=np.float32) / np.sqrt(LATENT)
        with h5py.File(p(f"{name}.h5"), "w") as f:
            g = f.create_group(f"activations/{name}")
            g["stimulus"] = ids
            d = g.create_dataset("pass0", (N_STIM, units), dtype=np.float32, chunks=(1, units),
                                 shuffle=True, compression="gzip", compression_opts=1)
            for first in range(0, N_STIM, 200):
                x = latent[first:first + 200] @ w
                x += np.random.default_rng([first, units]).standard_normal(x.shape, dtype=np.float32)
                d[first:first + 200] = np.maximum(x, 0)
        if name == "small":
            with h5py.File(p("small.h5")) as f:
                layers[name] = f["activations/small/pass0"][:]
    x = layers["small"]
    # True weights: small-layer features times a random low-rank map, each voxel's signal unit
    # variance; noise levels spread so that ceilings range from high to low.
    g_map = rng.standard_normal((SMALL, LATENT)).astype(np.float32) / np.sqrt(SMALL)
    signal = (x - x.mean(0)) @ g_map @ rng.standard_normal((LATENT, N_VOX)).astype(np.float32)
    signal /= signal.std(0)
    noise = np.logspace(-0.3, 0.5, N_VOX).astype(np.float32)
    test = np.arange(N_TEST)  # the shared stimuli, each shown twice
    order = rng.permutation(np.concatenate([np.arange(N_STIM), test]))
    betas = signal[order] + noise * rng.standard_normal((order.size, N_VOX), dtype=np.float32)
    side = int(np.ceil((N_VOX / 0.9) ** (1 / 3)))
    shape = (side, side, int(np.ceil(N_VOX / 0.9 / side**2)))
    n_grid = int(np.prod(shape))
    labels = np.zeros(n_grid, np.int16)  # x fastest, as lrm's voxel order
    labels[:N_VOX] = 1 + np.arange(N_VOX) * len(ROIS) // N_VOX
    vol = np.zeros((order.size, n_grid), np.float32)
    vol[:, :N_VOX] = betas
    affine = np.diag([1.8, 1.8, 1.8, 1.0])
    vol = vol.reshape((order.size,) + shape[::-1]).transpose(3, 2, 1, 0)
    nib.save(nib.Nifti1Image(vol, affine), p("betas.nii"))
    del vol
    nib.save(nib.Nifti1Image(labels.reshape(shape[::-1]).transpose(2, 1, 0), affine), p("rois.nii"))
    with open(p("rois.csv"), "w") as f:
        f.write("label,name\n" + "".join(f"{k + 1},{r}\n" for k, r in enumerate(ROIS)))
    with open(p("trials.csv"), "w") as f:
        f.write("stimulus_id,session\n" + "".join(f"{ids[s]},{1 + t // 750}\n" for t, s in enumerate(order)))
    with open(p("shared.txt"), "w") as f:
        f.write("\n".join(ids[test]) + "\n")
    mean = np.zeros((N_STIM, N_VOX), np.float64)
    np.add.at(mean, order, betas)
    mean /= np.bincount(order, minlength=N_STIM)[:, None]
    return x, signal, mean


def available():
    with open("/proc/meminfo") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable"))


def corr(a, b):
    a, b = a - a.mean(0), b - b.mean(0)
    return (a * b).sum(0) / np.sqrt((a * a).sum(0) * (b * b).sum(0))


def run_lrm(layer):
    out = p(f"enc_{layer}.h5")
    cmd = ["/usr/bin/time", "-f", "%M %e", "-o", p("time.txt"), lrm, "--quiet", "compare", "encode",
           "--activations", p(f"{layer}.h5"), "--brain", p("betas.nii"), "--trials", p("trials.csv")]
    for roi in ROIS:
        cmd += ["--roi", f"{p('rois.nii')}:{roi}"]
    cmd += ["--roi-labels", p("rois.csv"), "--test-ids", p("shared.txt"), "--regression", "ridgecv",
            "--alphas", "1e-2:1e6:20", "--halvings", "1", "--memory", "12G", "--out", out]
    if os.path.exists(out):
        os.remove(out)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(r.stderr)
    kib, wall = open(p("time.txt")).read().split()[-2:]
    with h5py.File(out) as f:
        return float(wall), int(kib) * 1024, f["encoding/r"][0, 0]


def sklearn_fit(x, y):
    train, test = slice(N_TEST, None), slice(0, N_TEST)
    start = time.perf_counter()
    x = x.astype(np.float64)  # as sklearn would: it fits in float64 only
    model = RidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(x[train], y[train])
    pred = model.predict(x[test])
    return time.perf_counter() - start, corr(pred, y[test])


def main():
    t = time.perf_counter()
    if not os.path.exists(p("shared.txt")):
        x_small, signal, mean = simulate()
    else:
        sys.exit(f"{work} holds an earlier subject; use an empty WORKDIR")
    print(f"scale {scale}: {N_STIM} stimuli ({N_TEST} shared test, shown twice), "
          f"{N_STIM + N_TEST} trials, {N_VOX} voxels in {len(ROIS)} ROIs, layers small {SMALL} "
          f"and big {BIG} units, 20 penalties, {os.environ.get('OMP_NUM_THREADS', '?')} threads; "
          f"simulated and written in {time.perf_counter() - t:.0f} s ({load()})")
    ceiling = corr(signal[:N_TEST], mean[:N_TEST])
    print(f"simulated ceiling (r of the true signal with the mean test response): "
          f"median {np.median(ceiling):.3f}")
    for layer in LAYERS:
        t_lrm, peak, r = run_lrm(layer)
        print(f"\n[{layer}] lrm compare encode --regression ridgecv (whole command): {t_lrm:.1f} s "
              f"({load()}), peak {peak / 2**30:.2f} GiB vs the 12 GiB bound "
              f"({'under' if peak < BOUND else 'OVER'}); median r {np.median(r):.3f} vs ceiling "
              f"{np.median(ceiling):.3f} (ratio {np.median(r) / np.median(ceiling):.2f})")
        if layer == "small":
            x = x_small
        else:
            with h5py.File(p("big.h5")) as f:
                x = f["activations/big/pass0"][:]
        # scikit-learn needs X in float64 twice (its own copy and the centred one): where that
        # does not fit, say so rather than let the kernel kill the run.
        need = 2 * 8 * x.shape[0] * x.shape[1]
        if need > available():
            print(f"[{layer}] sklearn RidgeCV not run: it needs {need / 2**30:.1f} GiB for X in "
                  f"float64 and its centred copy, {available() / 2**30:.1f} GiB are available")
            del x
            continue
        # Above 0.5 of NSD's size the quarter-size subset alone would take sklearn an hour.
        parts = (16, 8, 4) if scale <= 0.5 else (64, 32, 16)
        sizes = [max(k + 1, N_VOX // d) for k, d in enumerate(parts)]
        times = []
        for q in sizes:
            t_sk, r_sk = sklearn_fit(x, mean[:, :q])
            times.append(t_sk)
            print(f"[{layer}] sklearn RidgeCV fit+predict on {q} voxels: {t_sk:.1f} s ({load()}); "
                  f"max |r - lrm r| {np.max(np.abs(r_sk - r[:q])):.2e}")
        slope, fixed = np.polyfit(sizes, times, 1)
        estimate = fixed + slope * N_VOX
        if estimate <= full_limit:
            t_sk, r_sk = sklearn_fit(x, mean)
            print(f"[{layer}] all voxels: max |r - lrm r| {np.max(np.abs(r_sk - r)):.2e}")
            kind = "measured"
        else:
            t_sk, kind = estimate, "EXTRAPOLATED"
        print(f"[{layer}] sklearn on all {N_VOX} voxels: {t_sk:.1f} s ({kind}; fit to the subsets: "
              f"{fixed:.1f} s + {slope * 1000:.2f} s per 1000 voxels); ratio sklearn/lrm "
              f"{t_sk / t_lrm:.2f} ({kind})")
        del x


main()
