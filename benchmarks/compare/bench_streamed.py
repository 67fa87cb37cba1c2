#!/usr/bin/python3
"""Streamed `lrm compare` on a layer larger than its memory budget (see run_streamed.sh).

Writes, with h5py, big.h5: layer "big", 5,000 stimuli x 500,000 features, float32, chunks of one
stimulus row, shuffle + gzip level 1 (lrm extract's layout), rectified low-rank features plus
noise; small.h5: 1,000 features of the same stimuli (same latent), from which `lrm compare
simulate` makes recordings (50 neuroids, 2 repetitions); and subset.h5: the first 800 stimuli of
big.h5. Then times `lrm compare rsa` and `lrm compare encode --regression ridge` on big.h5 with
--memory 2G and prints each one's peak resident memory (VmHWM, the kernel's high-water mark that
getrusage reports, measured by /usr/bin/time so no parent is counted), and checks the subset's
results with the rows in memory against those streamed in blocks.

Usage: bench_streamed.py LRM WORKDIR
"""
import os
import subprocess
import sys
import time

import h5py
import numpy as np

lrm, work = sys.argv[1], sys.argv[2]
N, P, SUBSET, LATENT = 5000, 500_000, 800, 20
big, small, subset, small_subset, sim, sim_subset = (
    os.path.join(work, f"{n}.h5")
    for n in ("big", "small", "subset", "small_subset", "sim", "sim_subset"))
ids = np.array([f"stim{i:05d}" for i in range(N)], dtype=object)
categories = np.array([f"cat{i % 10}" for i in range(N)], dtype=object)


def layer_file(path, layer, n, p, rows):
    """Writes rows(first, count) batch by batch into the suite's activation layout."""
    with h5py.File(path, "w") as f:
        g = f.create_group(f"activations/{layer}")
        g["stimulus"] = ids[:n]
        g["category"] = categories[:n]
        d = g.create_dataset("pass0", (n, p), dtype=np.float32, chunks=(1, p), shuffle=True,
                             compression="gzip", compression_opts=1)
        for first in range(0, n, 100):
            d[first:first + 100] = rows(first, min(100, n - first))


def simulate(activations, out):
    """Recordings driven by the small layer: 50 neuroids, 2 repetitions of every stimulus."""
    subprocess.run([lrm, "--quiet", "--seed", "1", "compare", "simulate", "--activations",
                    activations, "--layer", "small", "--pass", "0", "--neuroids", "50",
                    "--repetitions", "2", "--out", out], check=True)


def generate():
    rng = np.random.default_rng(19)
    latent = rng.standard_normal((N, LATENT), dtype=np.float32)
    if not os.path.exists(big):
        weights = rng.standard_normal((LATENT, P), dtype=np.float32) / np.sqrt(LATENT)
        t = time.perf_counter()

        def rows(first, count):
            x = latent[first:first + count] @ weights
            x += np.random.default_rng(first).standard_normal(x.shape, dtype=np.float32)
            return np.maximum(x, 0, out=x)
        layer_file(big + ".partial", "big", N, P, rows)
        os.rename(big + ".partial", big)
        print(f"wrote {big}: {N} x {P} float32 ({N * P * 4 / 1e9:.1f} GB raw, "
              f"{os.path.getsize(big) / 1e9:.1f} GB compressed) in {time.perf_counter() - t:.0f} s",
              flush=True)
    weights = np.random.default_rng(7).standard_normal((LATENT, 1000), dtype=np.float32)
    for path, n, responses in ((small, N, sim), (small_subset, SUBSET, sim_subset)):
        if not os.path.exists(responses):
            layer_file(path, "small", n, 1000,
                       lambda first, count: np.maximum(latent[first:first + count] @ weights, 0))
            simulate(path, responses)
    if not os.path.exists(subset):
        with h5py.File(big, "r") as f:
            source = f["activations/big/pass0"]
            layer_file(subset, "big", SUBSET, P, lambda first, count: source[first:first + count])


def run(name, *args):
    """Runs lrm; returns its peak resident MiB."""
    timed = ["/usr/bin/time", "-f", "%M %e %U %S", lrm, "--quiet", "--threads", "2", *args]
    t = time.perf_counter()
    r = subprocess.run(timed, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"{name} failed ({r.returncode}): {r.stderr.strip()}")
    peak_kib, _, user, system = r.stderr.strip().splitlines()[-1].split()
    peak = int(peak_kib) / 1024
    print(f"{name}: {wall:.0f} s wall ({float(user) + float(system):.0f} s CPU), peak resident "
          f"memory (VmHWM) {peak:.0f} MiB, load average {os.getloadavg()[0]:.1f}", flush=True)
    return peak


def rsa(activations, responses, memory, out):
    return run(f"rsa {os.path.basename(activations)} --memory {memory}", "compare", "rsa",
               "--activations", activations, "--brain", f"{responses}:/responses", "--memory",
               memory, "--save-rdms", "--out", out)


def encode(activations, responses, memory, out):
    return run(f"encode ridge {os.path.basename(activations)} --memory {memory}", "compare",
               "encode", "--activations", activations, "--brain", f"{responses}:/responses",
               "--regression", "ridge", "--splits", "5", "--memory", memory, "--out", out)


def model_rdm(path):
    """The saved model RDM and its stimulus ids."""
    with h5py.File(path, "r") as f:
        g = f["rsa/model_rdm/big"]
        return g["pass0"][()], list(g["stimulus"].asstr()[()])


def largest_difference(a, b, name):
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        return float(np.nanmax(np.abs(fa[name][()] - fb[name][()])))


def subset_checks(out):
    """The subset with its rows in memory and streamed: their largest differences."""
    rsa(subset, sim_subset, "64G", out["rsa_mem"])
    rsa(subset, sim_subset, "400M", out["rsa_stream"])
    encode(subset, sim_subset, "64G", out["enc_mem"])
    encode(subset, sim_subset, "400M", out["enc_stream"])
    (in_memory, sub_ids), (streamed, _) = (model_rdm(out[k]) for k in ("rsa_mem", "rsa_stream"))
    checks = {
        "subset RDM, streamed vs in memory": float(np.abs(streamed - in_memory).max()),
        "subset rsa r, streamed vs in memory":
            largest_difference(out["rsa_mem"], out["rsa_stream"], "rsa/r"),
        "subset encoding r, streamed vs in memory":
            largest_difference(out["enc_mem"], out["enc_stream"], "encoding/r"),
    }
    if os.path.exists(out["rsa_big"]):
        whole, whole_ids = model_rdm(out["rsa_big"])
        at = {s: i for i, s in enumerate(whole_ids)}
        index = np.array([at[s] for s in sub_ids])
        checks["full streamed RDM on the subset vs the subset in memory"] = float(
            np.abs(whole[np.ix_(index, index)] - in_memory).max())
    for name, value in checks.items():
        print(f"{name}: largest difference {value:.2e} ({'ok' if value <= 1e-9 else 'ABOVE 1e-9'})")


def main():
    """The parts in LRM_BENCH_ONLY, in its order (rsa, encode, subset; default all three)."""
    parts = os.environ.get("LRM_BENCH_ONLY", "rsa,encode,subset").split(",")
    generate()
    produced = {"rsa": ["rsa_big"], "encode": ["encode_big"],
                "subset": ["rsa_mem", "rsa_stream", "enc_mem", "enc_stream"]}
    out = {name: os.path.join(work, f"{name}.h5") for names in produced.values() for name in names}
    for part in parts:
        for name in produced[part]:
            if os.path.exists(out[name]):
                os.remove(out[name])
    print(f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)", flush=True)
    peaks = {}
    for part in parts:
        if part == "rsa":
            peaks["rsa"] = rsa(big, sim, "2G", out["rsa_big"])
        elif part == "encode":
            peaks["encode"] = encode(big, sim, "2G", out["encode_big"])
        else:
            subset_checks(out)
    for name, peak in peaks.items():
        print(f"peak memory of {name} with --memory 2G: {peak:.0f} MiB "
              f"({'under' if peak * 2**20 < 2.5e9 else 'NOT under'} 2.5 GB)")


if __name__ == "__main__":
    main()
