#!/usr/bin/python3
"""Model-brain comparison benchmark: suite vs numpy (RDM) and scikit-learn (PLS-25), same data,
same run, 2 threads. Prints times, ratios, equality of results, and the suite's peak memory
relative to the activation array.

Usage: bench_compare.py BENCH_BINARY WORKDIR
"""
import os
import resource
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np

binary, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(2008)


def run_suite(*args):
    out = subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout.strip()
    print(out)
    return float(out.split(": ")[1].split(" s")[0])


only = os.environ.get("LRM_BENCH_ONLY", "")  # "rdm" or "pls": run one part

# --- RDM: 1,000 stimuli x 100,000 features, correlation distance -----------------------------
if only in ("", "rdm"):
    rdm_data = os.path.join(work, "rdm_features.h5")
    if not os.path.exists(rdm_data):
        latent = rng.standard_normal((1000, 50), dtype=np.float32)
        x = np.maximum(latent @ rng.standard_normal((50, 100_000), dtype=np.float32)
                       + rng.standard_normal((1000, 100_000), dtype=np.float32), 0)
        with h5py.File(rdm_data, "w") as f:
            f["features"] = x
        del x, latent
    with h5py.File(rdm_data, "r") as f:
        x = f["features"][()]
    suite_s = run_suite("rdm", rdm_data, os.path.join(work, "rdm_suite.h5"))
    numpy_s = numpy_cpu = 1e300
    for _ in range(3):  # best of 3, as the suite
        t, cpu = time.perf_counter(), time.process_time()
        xc = x - x.mean(axis=1, keepdims=True)
        xc /= np.sqrt(np.einsum("ij,ij->i", xc, xc))[:, None]
        rdm_np = 1 - xc @ xc.T  # float32 BLAS: numpy's fastest route (rsatoolbox: float64 einsum)
        numpy_s = min(numpy_s, time.perf_counter() - t)
        numpy_cpu = min(numpy_cpu, time.process_time() - cpu)
        del xc
    np.fill_diagonal(rdm_np, 0)
    ref = 1 - np.corrcoef(x.astype(np.float64))
    np.fill_diagonal(ref, 0)
    with h5py.File(os.path.join(work, "rdm_suite.h5"), "r") as f:
        rdm_suite = f["rdm"][()]
    print(f"numpy rdm (float32 matmul): {numpy_s:.3f} s ({numpy_cpu:.3f} CPU s); load average "
          f"{os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    n, p = x.shape
    print(f"numpy per CPU second: {n * (n + 1) * p / numpy_cpu / 1e9:.1f} GFLOP (of the RDM's "
          f"n(n+1)p; its matmul does twice that)")
    print(f"RDM ratio numpy/suite: {numpy_s / suite_s:.2f}x; max |suite - float64 corrcoef| = "
          f"{np.abs(rdm_suite - ref).max():.2e}, max |numpy float32 - float64| = {np.abs(rdm_np - ref).max():.2e}")
    del x, ref, rdm_np

# --- PLS-25: 3,200 stimuli x 9,216 features -> 168 neuroids, 10 stratified splits ------------
if only in ("", "pls"):
    pls_data = os.path.join(work, "pls_data.h5")
    if not os.path.exists(pls_data):
        from sklearn.model_selection import StratifiedShuffleSplit
        latent = rng.standard_normal((3200, 40))
        x = np.maximum(latent @ rng.standard_normal((40, 9216)) + rng.standard_normal((3200, 9216)), 0).astype(np.float32)
        y = latent @ rng.standard_normal((40, 168)) + 2 * rng.standard_normal((3200, 168))
        category = np.repeat(np.arange(8), 400)
        sss = StratifiedShuffleSplit(n_splits=10, test_size=0.1, random_state=0)
        train, test = zip(*sss.split(np.zeros(3200), category))
        with h5py.File(pls_data, "w") as f:
            f["x"], f["y"] = x, y
            f["train"], f["test"] = np.array(train, dtype=np.int64), np.array(test, dtype=np.int64)
    suite_s = run_suite("pls", pls_data, os.path.join(work, "pls_suite.h5"))

    peer = r'''
    import resource, sys, time, h5py, numpy as np
    from sklearn.cross_decomposition import PLSRegression
    splits = int(sys.argv[2])
    with h5py.File(sys.argv[1], "r") as f:
        x, y, train, test = f["x"][()], f["y"][()], f["train"][()], f["test"][()]
    preds = []
    t = time.perf_counter()
    for s in range(splits):
        pls = PLSRegression(n_components=25, scale=False).fit(x[train[s]], y[train[s]])
        # fit works in float64, but predict keeps float32 input and centres it in float32
        # (~1e-7 relative noise); the suite centres in double, as fit does.
        preds.append(pls.predict(x[test[s]].astype(np.float64)))
    elapsed = time.perf_counter() - t
    np.save(sys.argv[3], np.array(preds))
    print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    '''
    splits = int(os.environ.get("LRM_BENCH_SKLEARN_SPLITS", "10"))
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(peer), pls_data, str(splits), os.path.join(work, "pls_sklearn.npy")],
                         check=True, capture_output=True, text=True).stdout.split()
    sklearn_s, sklearn_mb = float(out[0]) * 10 / splits, float(out[1])
    pred_sk = np.load(os.path.join(work, "pls_sklearn.npy"))
    with h5py.File(os.path.join(work, "pls_suite.h5"), "r") as f:
        pred_suite = f["prediction"][:splits]
    rel = np.abs(pred_suite - pred_sk) / np.maximum(np.abs(pred_sk), 1e-3 * np.abs(pred_sk).max())
    print(f"sklearn pls: {sklearn_s:.3f} s for 10 splits" + (f" (measured on {splits})" if splits != 10 else "")
          + f"; peak memory of the sklearn process {sklearn_mb:.0f} MiB")
    print(f"PLS ratio sklearn/suite: {sklearn_s / suite_s:.1f}x; max relative difference of predictions {rel.max():.2e}")
