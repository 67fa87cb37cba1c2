#!/usr/bin/python3
"""End-to-end checks of reading activations written by other tools and of the memory budget of
lrm compare (issue 19): h5py files with gzip (with and without shuffle, odd chunk shapes),
uncompressed chunks, contiguous storage and a pipeline the suite leaves to HDF5 (Fletcher-32) give the same
localizer and RSA results as each other; --memory that cannot hold one block, or is not a size,
is one line naming --memory (exit 2); a run interrupted with Ctrl-C leaves only <out>.partial.

Usage: test_streamed.py path/to/lrm   (run from the repository root)
"""
import os
import shutil
import signal
import subprocess
import time

import h5py
import numpy as np

from lrm_e2e import Checks

c = Checks("streamed")
run = c.runner("--seed", "3", "--threads", "2")


def write(path, x, ids, categories, **storage):
    with h5py.File(path, "w") as f:
        g = f.create_group("activations/conv")
        g["stimulus"] = np.array(ids, dtype=object)
        g["category"] = np.array(categories, dtype=object)
        g.create_dataset("pass0", data=x, **storage)


def arrays(path, group):
    out = {}
    with h5py.File(path, "r") as f:
        f[group].visititems(lambda name, d: out.__setitem__(name, d[()])
                            if isinstance(d, h5py.Dataset) and d.dtype.kind == "f" else None)
    return out


tmp = c.tmp
rng = np.random.default_rng(19)
n, units = 60, 3001
ids = [f"s{i:03d}" for i in range(n)]
categories = [f"c{i % 3}" for i in range(n)]
x = np.maximum(rng.standard_normal((n, 5)) @ rng.standard_normal((5, units))
               + rng.standard_normal((n, units)), 0).astype(np.float32)
storages = {
    "contiguous": {},
    "gzip_shuffle_rows": dict(chunks=(1, units), compression="gzip", shuffle=True),
    "gzip_odd_chunks": dict(chunks=(7, 333), compression="gzip", compression_opts=6),
    "shuffle_gzip_columns": dict(chunks=(n, 100), compression="gzip", shuffle=True),
    "chunked_plain": dict(chunks=(16, 512)),
    "fletcher32": dict(chunks=(8, 1000), compression="gzip", fletcher32=True),
}
files = {}
for name, storage in storages.items():
    files[name] = os.path.join(tmp, f"{name}.h5")
    write(files[name], x, ids, categories, **storage)
sim = os.path.join(tmp, "sim.h5")
r = run("compare", "simulate", "--activations", files["contiguous"], "--layer", "conv",
        "--pass", "0", "--neuroids", "20", "--repetitions", "2", "--out", sim)
c.check("compare simulate exits 0", r.returncode == 0, r.stderr.strip())

results = {}
for name, path in files.items():
    loc, rsa = os.path.join(tmp, f"loc_{name}.h5"), os.path.join(tmp, f"rsa_{name}.h5")
    a = run("localize", "--activations", path, "--target", "all", "--out", loc)
    b = run("compare", "rsa", "--activations", path, "--brain", f"{sim}:/responses",
            "--save-rdms", "--memory", "512M", "--out", rsa)
    c.check(f"{name}: localize and rsa exit 0", a.returncode == 0 and b.returncode == 0,
          (a.stderr + b.stderr).strip())
    if a.returncode == 0 and b.returncode == 0:
        results[name] = {**arrays(loc, "localizer"), **arrays(rsa, "rsa")}
reference = results.get("contiguous", {})
for name, got in results.items():
    same = got.keys() == reference.keys() and all(
        np.array_equal(got[k], reference[k], equal_nan=True) for k in reference)
    c.check(f"{name}: results identical to the contiguous file's", same)

out = os.path.join(tmp, "small.h5")
for memory in ("1M", "lots"):
    r = run("compare", "rsa", "--activations", files["contiguous"], "--brain",
            f"{sim}:/responses", "--memory", memory, "--out", out)
    c.check(f"--memory {memory}: exit 2, one line naming --memory",
          r.returncode == 2 and r.stderr.count("\n") == 1 and "--memory" in r.stderr
          and not os.path.exists(out),
          r.stderr.strip())

# Long enough to interrupt: 600 x 200,000 (480 MB), correlation RDM in blocks.
big = os.path.join(tmp, "big.h5")
n_big = 600
with h5py.File(big, "w") as f:
    g = f.create_group("activations/conv")
    g["stimulus"] = np.array([f"s{i:03d}" for i in range(n_big)], dtype=object)
    d = g.create_dataset("pass0", (n_big, 200_000), dtype=np.float32, chunks=(1, 200_000))
    for first in range(0, n_big, 100):
        d[first:first + 100] = rng.random((100, 200_000), dtype=np.float32)
# Brain RDM without stimulus ids: conditions matched by order.
brain_rdm = os.path.join(tmp, "brain_rdm.h5")
with h5py.File(brain_rdm, "w") as f:
    a = rng.random((n_big, n_big))
    f["rdm"] = np.where(np.eye(n_big, dtype=bool), 0.0, a + a.T)
interrupted = os.path.join(tmp, "interrupted.h5")
p = subprocess.Popen([c.lrm, "--quiet", "--threads", "2", "compare", "rsa", "--activations", big,
                      "--brain", f"{brain_rdm}:/rdm", "--memory", "300M", "--out",
                      interrupted], stderr=subprocess.PIPE, text=True)
# Interrupted once the output is open, however slowly a loaded machine gets there.
deadline = time.monotonic() + 60
while not os.path.exists(interrupted + ".partial") and time.monotonic() < deadline \
        and p.poll() is None:
    time.sleep(0.05)
time.sleep(0.5)
p.send_signal(signal.SIGINT)
_, err = p.communicate()
c.check("Ctrl-C: exit 130, only <out>.partial left",
      p.returncode == 130 and not os.path.exists(interrupted)
      and os.path.exists(interrupted + ".partial"), f"exit {p.returncode}: {err.strip()}")

shutil.rmtree(tmp)  # the 480 MB layer
c.finish()
