#!/usr/bin/python3
"""The localizer, suite against scipy + statsmodels, on the same activation file in one run.

Every category as target against the 4 others, Student t-tests, BY FDR at q = .05. Both sides
read the activations from the HDF5 file, compute, and write t, adjusted p, mask and means per
target. The peer is the straightforward code published localizers use (ttest_ind on the float64
activations, multipletests per comparison).
Timings on a shared machine vary; the ratio of the two, measured in the same run, is the figure.

Usage: bench_localizer.py ACTIVATIONS.h5 SUITE_COMMAND...
  SUITE_COMMAND is build/bench_localize (gets IN OUT appended) or the lrm executable (runs
  `lrm --threads 2 --quiet localize --activations IN --target all --out OUT`).
"""
import os
import resource
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

LAYER = "features.0"


def peer(path, out):
    with h5py.File(path, "r") as f:
        x = f[f"activations/{LAYER}/pass1"][...].astype(np.float64)
        category = f[f"activations/{LAYER}/category"].asstr()[...]
    categories = sorted(set(category))
    with h5py.File(out, "w") as o:
        for target in categories:
            ts, ps, masks = [], [], []
            for other in categories:
                if other == target:
                    continue
                t, p = stats.ttest_ind(x[category == target], x[category == other], axis=0)
                # Dead units give p = NaN, which would turn every adjusted p NaN; the suite counts
                # them as p = 1 (never rejected), which leaves the masks unchanged.
                reject, p_adjusted = multipletests(np.where(np.isnan(p), 1.0, p), 0.05, "fdr_by")[:2]
                ts.append(t)
                ps.append(p_adjusted)
                masks.append(reject & (t > 0))
            g = o.create_group(f"localizer/{LAYER}/pass1/{target}")
            g["t"] = np.array(ts)
            g["p_adjusted"] = np.array(ps)
            g["selective"] = np.all(masks, axis=0).astype(np.uint8)
            g["mean_t"] = np.mean(ts, axis=0)
            g["mean_p_adjusted"] = np.mean(ps, axis=0)


def main():
    path, command = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory() as tmp:
        peer_out, suite_out = os.path.join(tmp, "peer.h5"), os.path.join(tmp, "suite.h5")
        cpu = lambda who: (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(who))
        start, cpu_start = time.perf_counter(), cpu(resource.RUSAGE_SELF)
        peer(path, peer_out)
        peer_s, peer_cpu = time.perf_counter() - start, cpu(resource.RUSAGE_SELF) - cpu_start

        start, cpu_start = time.perf_counter(), cpu(resource.RUSAGE_CHILDREN)
        if os.path.basename(command[0]) == "lrm":
            args = command + ["--threads", "2", "--quiet", "localize", "--activations", path,
                              "--target", "all", "--out", suite_out]
        else:
            args = command + [path, suite_out]
        subprocess.run(args, check=True)
        suite_s, suite_cpu = time.perf_counter() - start, cpu(resource.RUSAGE_CHILDREN) - cpu_start

        # Same masks and adjusted p, or the timing means nothing.
        with h5py.File(peer_out, "r") as a, h5py.File(suite_out, "r") as b:
            worst = 0.0
            for target in a[f"localizer/{LAYER}/pass1"]:
                ga, gb = a[f"localizer/{LAYER}/pass1/{target}"], b[f"localizer/{LAYER}/pass1/{target}"]
                assert (ga["selective"][...] == gb["selective"][...]).all(), target
                pa, pb = ga["p_adjusted"][...], gb["p_adjusted"][...]
                finite = np.isfinite(pb)
                worst = max(worst, float(np.max(np.abs(pa[finite] - pb[finite]))))
                n = int(gb["selective"][...].sum())
                print(f"  {target}: {n} selective units (identical masks)")
            print(f"  largest difference of adjusted p: {worst:.3g}")
    print(f"peer (scipy + statsmodels): {peer_s:.3f} s wall, {peer_cpu:.3f} s CPU")
    print(f"suite:                      {suite_s:.3f} s wall, {suite_cpu:.3f} s CPU")
    print(f"ratio: {peer_s / suite_s:.1f}x wall time ({peer_cpu / suite_cpu:.1f}x CPU time)")


if __name__ == "__main__":
    main()
