#!/usr/bin/python3
"""The localizer, suite against scipy + statsmodels, on the same activation file in one run.

Every category as target against the 4 others, Student t-tests, BY FDR at q = .05. Both sides
read the activations from the HDF5 file, compute, and write t, adjusted p, rejections, mask and
means per target. The peer is the straightforward code published localizers use (ttest_ind on the
float64 activations, multipletests per comparison). The suite's outputs are checked against the
peer's (identical masks and rejections; the largest differences of t and adjusted p are printed).
Timings on a shared machine vary; the ratio of the two, measured in the same run, is the figure,
printed with the load average.

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
            ts, ps, rejects, masks = [], [], [], []
            for other in categories:
                if other == target:
                    continue
                t, p = stats.ttest_ind(x[category == target], x[category == other], axis=0)
                # Dead units give p = NaN, which would turn every adjusted p NaN; the suite counts
                # them as p = 1 (never rejected), which leaves the masks unchanged.
                reject, p_adjusted = multipletests(np.where(np.isnan(p), 1.0, p), 0.05, "fdr_by")[:2]
                ts.append(t)
                ps.append(p_adjusted)
                rejects.append(reject)
                masks.append(reject & (t > 0))
            g = o.create_group(f"localizer/{LAYER}/pass1/{target}")
            g["t"] = np.array(ts)
            g["p_adjusted"] = np.array(ps)
            g["rejected"] = np.array(rejects).astype(np.uint8)
            g["selective"] = np.all(masks, axis=0).astype(np.uint8)
            g["mean_t"] = np.mean(ts, axis=0)
            g["mean_p_adjusted"] = np.mean(ps, axis=0)


def differences(peer_out, suite_out):
    """Largest differences of the suite's outputs from the peer's; asserts identical masks."""
    # t relative to max(|t|, 1): t near 0 comes from nearly equal means, whose difference keeps
    # only the absolute precision of the means.
    worst = {"t": 0.0, "p_adjusted": 0.0, "p_adjusted (relative)": 0.0, "mean_t": 0.0,
             "mean_p_adjusted": 0.0}
    relative = lambda a, b, floor=1e-300: float(
        np.max(np.abs(a - b) / np.maximum(np.abs(b), floor), initial=0.0))
    with h5py.File(peer_out, "r") as a, h5py.File(suite_out, "r") as b:
        for target in a[f"localizer/{LAYER}/pass1"]:
            ga, gb = a[f"localizer/{LAYER}/pass1/{target}"], b[f"localizer/{LAYER}/pass1/{target}"]
            for name in ("selective", "rejected"):
                assert (ga[name][...] == gb[name][...]).all(), f"{target}: {name} differs"
            ta, tb = ga["t"][...], gb["t"][...]
            assert (np.isnan(ta) == np.isnan(tb)).all(), f"{target}: undefined t differ"
            defined = ~np.isnan(tb)  # the suite's adjusted p is NaN where t is undefined
            worst["t"] = max(worst["t"], relative(tb[defined], ta[defined], 1.0))
            pa, pb = ga["p_adjusted"][...][defined], gb["p_adjusted"][...][defined]
            worst["p_adjusted"] = max(worst["p_adjusted"], float(np.max(np.abs(pa - pb))))
            worst["p_adjusted (relative)"] = max(worst["p_adjusted (relative)"], relative(pb, pa))
            unit = defined.all(axis=0)
            worst["mean_t"] = max(
                worst["mean_t"], relative(gb["mean_t"][...][unit], ga["mean_t"][...][unit], 1.0))
            worst["mean_p_adjusted"] = max(worst["mean_p_adjusted"], float(np.max(np.abs(
                gb["mean_p_adjusted"][...][unit] - ga["mean_p_adjusted"][...][unit]))))
            n = int(gb["selective"][...].sum())
            print(f"  {target}: {n} selective units (masks and rejections identical)")
    return worst


def main():
    path, command = sys.argv[1], sys.argv[2:]
    load_before = os.getloadavg()
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

        # Same masks, t and adjusted p, or the timing means nothing.
        worst = differences(peer_out, suite_out)
    print("largest differences from scipy + statsmodels (t and mean_t relative to max(|t|, 1)): " +
          ", ".join(f"{name} {value:.3g}" for name, value in worst.items()))
    print(f"peer (scipy + statsmodels): {peer_s:.3f} s wall, {peer_cpu:.3f} s CPU")
    print(f"suite:                      {suite_s:.3f} s wall, {suite_cpu:.3f} s CPU")
    print(f"ratio: {peer_s / suite_s:.1f}x wall time ({peer_cpu / suite_cpu:.1f}x CPU time); "
          f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after "
          f"({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
