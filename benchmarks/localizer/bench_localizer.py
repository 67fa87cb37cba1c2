#!/usr/bin/python3
"""The localizer, suite against scipy + statsmodels, on the same activation files in one run.

Every category as target against the others, Student t-tests, BY FDR at q = .05. The peer reads
the activations with h5py, computes, and writes t, adjusted p, rejections, mask and means per
target; its compute alone (the t-tests and multipletests, not h5py's reading or writing) is the
figure the suite is held to. The peer is the straightforward code published localizers use
(ttest_ind on the float64 activations, multipletests per comparison). The suite is timed as a
whole command (start-up, reading, testing, writing). The suite's outputs are checked against the
peer's (identical masks and rejections; the largest differences of t and adjusted p are printed)
and, across inputs, against each other bit for bit. Each input is timed REPEATS times,
interleaved with the others; medians are printed with the load average. Timings on a shared
machine vary; the ratio of the two, measured in the same run, is the figure.

Usage: bench_localizer.py [--repeats N] SUITE_COMMAND ACTIVATIONS.h5 [ACTIVATIONS.h5 ...]
  SUITE_COMMAND is the lrm executable (runs `lrm --threads 2 --quiet localize --activations IN
  --target all --out OUT`) or build/bench_localize (gets IN OUT appended). Each file holds one
  layer with one pass dataset, as `lrm extract --layers L --passes K` writes it.
"""
import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time

import h5py
import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests


def layer_and_pass(path):
    with h5py.File(path, "r") as f:
        layer = next(iter(f["activations"]))
        name = next(n for n in f[f"activations/{layer}"] if n.startswith("pass"))
    return layer, name


def peer_compute(x, category):
    """Per target: t, adjusted p, rejections and mask of each comparison, then their summary."""
    out = {}
    categories = sorted(set(category))
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
        out[target] = {"t": np.array(ts), "p_adjusted": np.array(ps),
                       "rejected": np.array(rejects).astype(np.uint8),
                       "selective": np.all(masks, axis=0).astype(np.uint8),
                       "mean_t": np.mean(ts, axis=0), "mean_p_adjusted": np.mean(ps, axis=0)}
    return out


def peer(path, out, layer, pass_name):
    """Runs the peer; returns (whole wall s, compute-only wall s, whole CPU s)."""
    cpu = lambda: (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(resource.RUSAGE_SELF))
    start, cpu_start = time.perf_counter(), cpu()
    with h5py.File(path, "r") as f:
        x = f[f"activations/{layer}/{pass_name}"][...].astype(np.float64)
        category = f[f"activations/{layer}/category"].asstr()[...]
    compute_start = time.perf_counter()
    results = peer_compute(x, category)
    compute_s = time.perf_counter() - compute_start
    with h5py.File(out, "w") as o:
        for target, arrays in results.items():
            g = o.create_group(f"localizer/{layer}/{pass_name}/{target}")
            for name, values in arrays.items():
                g[name] = values
    return time.perf_counter() - start, compute_s, cpu() - cpu_start


def suite(command, path, out):
    """Runs the suite's whole command; returns (wall s, CPU s)."""
    cpu = lambda: (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(resource.RUSAGE_CHILDREN))
    if os.path.basename(command[0]) == "lrm":
        args = command + ["--threads", "2", "--quiet", "localize", "--activations", path,
                          "--target", "all", "--out", out]
    else:
        args = command + [path, out]
    start, cpu_start = time.perf_counter(), cpu()
    subprocess.run(args, check=True)
    return time.perf_counter() - start, cpu() - cpu_start


def differences(peer_out, suite_out, group):
    """Largest differences of the suite's outputs from the peer's; asserts identical masks."""
    # t relative to max(|t|, 1): t near 0 comes from nearly equal means, whose difference keeps
    # only the absolute precision of the means.
    worst = {"t": 0.0, "p_adjusted": 0.0, "p_adjusted (relative)": 0.0, "mean_t": 0.0,
             "mean_p_adjusted": 0.0}
    relative = lambda a, b, floor=1e-300: float(
        np.max(np.abs(a - b) / np.maximum(np.abs(b), floor), initial=0.0))
    with h5py.File(peer_out, "r") as a, h5py.File(suite_out, "r") as b:
        for target in a[group]:
            ga, gb = a[f"{group}/{target}"], b[f"{group}/{target}"]
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


def same_results(first, second, group):
    """True when two suite outputs hold bit-identical arrays for every target."""
    with h5py.File(first, "r") as a, h5py.File(second, "r") as b:
        return all(np.array_equal(a[f"{group}/{t}/{n}"][...], b[f"{group}/{t}/{n}"][...],
                                  equal_nan=True)
                   for t, g in a[group].items() if isinstance(g, h5py.Group)
                   for n in ("t", "p_adjusted", "rejected", "selective"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("command")
    parser.add_argument("inputs", nargs="+")
    args = parser.parse_args()
    load_before = os.getloadavg()
    times = {path: {"peer": [], "peer_compute": [], "peer_cpu": [], "suite": [], "suite_cpu": []}
             for path in args.inputs}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for i, path in enumerate(args.inputs):
                layer, pass_name = layer_and_pass(path)
                peer_out = os.path.join(tmp, f"peer{i}.h5")
                suite_out = os.path.join(tmp, f"suite{i}.h5")
                for name in (peer_out, suite_out):
                    if os.path.exists(name):
                        os.remove(name)
                t = times[path]
                whole, compute, cpu = peer(path, peer_out, layer, pass_name)
                t["peer"].append(whole)
                t["peer_compute"].append(compute)
                t["peer_cpu"].append(cpu)
                wall, cpu = suite(args.command.split(), path, suite_out)
                t["suite"].append(wall)
                t["suite_cpu"].append(cpu)
                if repeat == 0:
                    # Same masks, t and adjusted p, or the timing means nothing.
                    group = f"localizer/{layer}/{pass_name}"
                    print(f"{path} ({layer}/{pass_name}):")
                    worst = differences(peer_out, suite_out, group)
                    print("  largest differences from scipy + statsmodels (t and mean_t relative "
                          "to max(|t|, 1)): " +
                          ", ".join(f"{name} {value:.3g}" for name, value in worst.items()))
                    if i > 0:
                        same = same_results(os.path.join(tmp, "suite0.h5"), suite_out, group)
                        assert same, f"{path}: the suite's results differ from the first input's"
                        print(f"  suite results bit-identical to those from {args.inputs[0]}")
    load_after = os.getloadavg()
    print(f"medians of {args.repeats} runs each, inputs interleaved:")
    for path, t in times.items():
        m = {name: statistics.median(values) for name, values in t.items()}
        with h5py.File(path, "r") as f:
            layer, pass_name = layer_and_pass(path)
            d = f[f"activations/{layer}/{pass_name}"]
            storage = (f"chunks {d.chunks}, {d.compression or 'uncompressed'}"
                       f"{' + shuffle' if d.shuffle else ''}" if d.chunks else "contiguous")
            shape = d.shape
        print(f"{path}: {shape[0]} x {shape[1]}, {storage}, "
              f"{os.path.getsize(path) / 2**20:.0f} MiB")
        print(f"  peer (scipy + statsmodels): {m['peer_compute']:.3f} s compute only "
              f"({m['peer']:.3f} s with h5py reading and writing, {m['peer_cpu']:.3f} s CPU)")
        print(f"  suite (whole command):      {m['suite']:.3f} s wall, {m['suite_cpu']:.3f} s CPU "
              f"(runs: {', '.join(f'{v:.3f}' for v in t['suite'])})")
        print(f"  ratio: {m['peer_compute'] / m['suite']:.1f}x (peer compute only / suite whole "
              f"command), {m['peer'] / m['suite']:.1f}x (whole / whole)")
    print(f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
          f"({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
