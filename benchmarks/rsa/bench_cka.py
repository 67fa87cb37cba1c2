#!/usr/bin/python3
"""CKA benchmark (issue 13, item 7): `lrm compare cka` against the numpy reference users write, on
the same data in one run, ratio printed.

The numpy reference is Kornblith et al.'s (2019) linear CKA as their published notebook computes
it, reimplemented here from its formulas: gram_linear(x) = x x' (float64, as it is normally run),
center_gram (column means subtracted, half the grand mean added back: H K H), and
cka = <Kc, Lc>_F / (|Kc|_F |Lc|_F). Its time includes reading the float32 activations from the
same HDF5 file lrm reads (lrm's time is the whole command).

Also printed, to say where the time goes and what a faster lrm could reach:
- the BLAS peak of this machine for 2 threads (dgemm and sgemm of 2048^3, GFLOP/s), and the
  fraction of the double peak each side reaches on its Grams (n^2 p flops per Gram through syrk);
- single-precision products summed in double per 4096-feature chunk (what lrm's correlation RDM
  does), emulated in numpy: its time and its CKA error against float64 on these data.
Usage: bench_cka.py LRM WORKDIR [--stimuli N --units P]
"""
import argparse
import os
import subprocess
import time

import h5py
import numpy as np


def seconds(f):
    """(result, wall seconds) of f()."""
    start = time.perf_counter()
    return f(), time.perf_counter() - start


def gram_linear(x):
    return x @ x.T


def center_gram(k):
    means = k.mean(0)
    means -= means.mean() / 2
    return k - means[:, None] - means[None, :]


def cka(kx, ky):
    kx, ky = center_gram(kx), center_gram(ky)
    return kx.ravel() @ ky.ravel() / (np.linalg.norm(kx) * np.linalg.norm(ky))


def numpy_reference(path):
    with h5py.File(path, "r") as f:
        x = f["activations/layer/pass0"][()].astype(np.float64)
        kx = gram_linear(x)
        del x
        y = f["activations/layer/pass1"][()].astype(np.float64)
        ky = gram_linear(y)
    return cka(kx, ky)


def chunked_single(z, chunk=4096):
    """x x' as float32 products over feature chunks summed in double (rows shifted by the mean of
    the first 64, in double, then rounded to float32)."""
    shift = z[:64].astype(np.float64).mean(0)
    g = np.zeros((len(z), len(z)))
    for c in range(0, z.shape[1], chunk):
        part = (z[:, c:c + chunk] - shift[c:c + chunk]).astype(np.float32)
        g += part @ part.T
    return g


def peak(dtype, m=2048):
    u = np.random.default_rng(0).standard_normal((m, m)).astype(dtype)
    u @ u
    _, t = seconds(lambda: u @ u)
    return 2 * m ** 3 / t / 1e9


parser = argparse.ArgumentParser(description="lrm compare cka against numpy (Kornblith et al.)")
parser.add_argument("lrm", help="the lrm binary")
parser.add_argument("work", help="folder for the activation and result files")
parser.add_argument("--stimuli", type=int, default=5000, help="rows (stimuli)")
parser.add_argument("--units", type=int, default=50000, help="columns (features)")
a = parser.parse_args()
os.makedirs(a.work, exist_ok=True)
n, units = a.stimuli, a.units
# Two related representations: a 32-dimensional signal in noise, and its rectified noisy copy.
rng = np.random.default_rng(7)
x = rng.standard_normal((n, 32), dtype=np.float32) @ rng.standard_normal((32, units), dtype=np.float32)
x += rng.standard_normal((n, units), dtype=np.float32)
y = np.maximum(x + 0.5 * rng.standard_normal((n, units), dtype=np.float32), 0)
acts, out = os.path.join(a.work, "cka_acts.h5"), os.path.join(a.work, "cka.h5")
with h5py.File(acts, "w") as f:
    layer = f.create_group("activations/layer")
    layer["stimulus"] = np.array([f"s{i}" for i in range(n)], dtype=object)
    for k, v in enumerate((x, y)):
        layer[f"pass{k}"] = v

command = [a.lrm, "--quiet", "compare", "cka", "--activations", acts, "--out", out]
_, t_lrm = seconds(lambda: subprocess.run(command, check=True))
ours = h5py.File(out, "r")["cka/cka"][0, 1]
want, t_np = seconds(lambda: numpy_reference(acts))
_, t_read = seconds(lambda: [h5py.File(acts, "r")[f"activations/layer/pass{k}"][()] for k in (0, 1)])
single, t_single = seconds(lambda: cka(chunked_single(x), chunked_single(y)))
d_peak, s_peak = peak(np.float64), peak(np.float32)
flops = 2 * n * n * units / 1e9  # two Grams of n^2 p flops each (syrk)
print(f"CKA {n} x {units} (2 representations, linear, biased), load average "
      f"{open('/proc/loadavg').read().split()[0]} on {os.cpu_count()} cores:")
print(f"  lrm compare cka {t_lrm:.1f} s (whole command); numpy float64 (Kornblith) {t_np:.1f} s "
      f"(HDF5 read {t_read:.1f} s of it): {t_np / t_lrm:.2f}x; |lrm - numpy| = {abs(ours - want):.1e}")
print(f"  BLAS peak (2 threads, 2048^3): dgemm {d_peak:.0f} GFLOP/s, sgemm {s_peak:.0f} GFLOP/s; "
      f"Grams {flops:.0f} GFLOP: lrm {flops / t_lrm / d_peak:.0%} of dgemm peak, numpy "
      f"{flops / (t_np - t_read) / d_peak:.0%} (compute only)")
print(f"  float32 products summed in double per 4096 features (numpy emulation): {t_single:.1f} s "
      f"for the Grams and CKA, |CKA - float64| = {abs(single - want):.1e}; the ceiling of that "
      f"route is sgemm/dgemm = {s_peak / d_peak:.1f}x the float64 Grams")
del x, y

# The map of the CKA figure: every pair of m layer x pass representations (up to 1,000 x 10,000). The
# notebook's cka(gram_linear(X), gram_linear(Y)) per pair computes 2 Grams a pair, m (m - 1) in
# all; lrm computes each once (m). A numpy user who caches the Grams computes m too.
m, n5, p5 = 6, min(n, 1000), min(units, 10000)
reps = [rng.standard_normal((n5, p5), dtype=np.float32) for _ in range(m)]
for k in range(1, m):
    reps[k] = np.maximum(reps[k - 1] + 0.7 * reps[k], 0)
with h5py.File(acts, "w") as f:
    layer = f.create_group("activations/layer")
    layer["stimulus"] = np.array([f"s{i}" for i in range(n5)], dtype=object)
    for k, v in enumerate(reps):
        layer[f"pass{k}"] = v
_, t_map = seconds(lambda: subprocess.run(command, check=True))


def numpy_pairs(cache):
    grams = {}

    def gram(k):
        if not cache:
            return gram_linear(reps[k].astype(np.float64))
        if k not in grams:
            grams[k] = gram_linear(reps[k].astype(np.float64))
        return grams[k]
    return [cka(gram(i), gram(j)) for i in range(m) for j in range(i + 1, m)]


pairs, t_pairs = seconds(lambda: numpy_pairs(False))
_, t_cached = seconds(lambda: numpy_pairs(True))
got = h5py.File(out, "r")["cka/cka"][()][np.triu_indices(m, 1)]
print(f"CKA map of {m} representations of {n5} x {p5} (all {m * (m - 1) // 2} pairs), load average "
      f"{open('/proc/loadavg').read().split()[0]}: lrm {t_map:.1f} s; numpy per pair (the "
      f"notebook) {t_pairs:.1f} s: {t_pairs / t_map:.1f}x; numpy with cached Grams {t_cached:.1f} s: "
      f"{t_cached / t_map:.1f}x; max |lrm - numpy| = {np.abs(got - pairs).max():.1e}")
