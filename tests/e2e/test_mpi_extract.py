#!/usr/bin/env python3
"""End-to-end checks of `mpirun -n 3 lrm extract`: the joined file equals a single-process run
(every dataset, its chunks, compression and attributes), a rank without rows, --resume after one
rank is killed (kill -9) mid-run, and an unreadable image that only one rank loads.
Usage: /usr/bin/python3 tests/e2e/test_mpi_extract.py path/to/lrm"""
import glob
import os
import shutil
import subprocess
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lrm_e2e import Checks, write_bar_images  # noqa: E402

c = Checks("mpi_extract")
MPIRUN = shutil.which("mpirun")
if MPIRUN is None:
    print("mpi_extract: skipped: mpirun is not installed (apt-get install openmpi-bin)")
    sys.exit(0)
RANKS = 3


def mpirun(ranks=RANKS):
    return [MPIRUN, "--allow-run-as-root", "--oversubscribe", "-n", str(ranks)]


SIZE = ["--resize", "0", "--crop", "0"]  # keep the 64×64 test images (AlexNet's pool adapts)
# One thread per rank: three ranks share the CI machine's two cores.
BASE = ["extract", "--threads", "1", "--model", "alexnet-lrm3", "--passes", "0,1", *SIZE]


def make_images(path, n, seed):
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        f["images"] = rng.integers(0, 256, (n, 3, 64, 64), dtype=np.uint8)
        f["category"] = np.array([("faces", "houses")[i % 2] for i in range(n)], dtype=object)
    return path + ":/images"


def mpi_run(*args, timeout=300, ranks=RANKS):
    return subprocess.run([*mpirun(ranks), c.lrm, "--quiet", *args], capture_output=True, text=True,
                          timeout=timeout)


def contents(path):
    """Every dataset's values, chunks, filters and attributes and every group's attributes below
    the root (references left out)."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            # pca_fit names the output file the fits are stored in
            attrs = repr(sorted((k, v) for k, v in obj.attrs.items()
                                if k not in ("DIMENSION_LIST", "REFERENCE_LIST", "pca_fit")))
            if isinstance(obj, h5py.Dataset):
                out[name] = (obj[()], obj.chunks, obj.compression, obj.shuffle, attrs)
            else:
                out[name] = (np.zeros(0), attrs)
        f.visititems(visit)
        out["/mpi_ranks"] = f.attrs.get("mpi_ranks")
    return out


def differences(a, b):
    if a.keys() != b.keys():
        return f"datasets differ: {sorted(a.keys() ^ b.keys())}"
    bad = [k for k in a if k != "/mpi_ranks" and not (np.array_equal(a[k][0], b[k][0]) and a[k][1:] == b[k][1:])]
    return ", ".join(bad)


def leftovers(out):
    return sorted(os.path.basename(p) for p in glob.glob(out + ".*"))


def equals_single(label, stim, n_layers_args, batch, ranks=RANKS):
    args = [*BASE, *n_layers_args, "--batch-size", str(batch), "--stimuli", stim]
    single, joined = c.path(f"{label}_single.h5"), c.path(f"{label}_mpi.h5")
    c.run(*args, "--out", single)
    p = mpi_run(*args, "--out", joined, ranks=ranks)
    c.check(f"{label}: mpirun -n {ranks} finishes", p.returncode == 0, p.stderr.strip()[-500:])
    if p.returncode != 0:
        return None
    a, b = contents(single), contents(joined)
    c.check(f"{label}: the joined file equals the single-process file (every dataset and attribute)", not differences(a, b),
            differences(a, b))
    c.check(f"{label}: provenance records {ranks} ranks", b["/mpi_ranks"] == ranks and a["/mpi_ranks"] is None)
    c.check(f"{label}: no part files left", leftovers(joined) == [], str(leftovers(joined)))
    return a


# 1. Equality with one process: a short last batch on the last rank, and a rank without rows
# (two batches for three ranks).
LAYERS = ["--layers", "features.8,classifier.6,features.0:F"]
uneven = make_images(c.path("uneven.h5"), 20, seed=0)
equals_single("uneven", uneven, LAYERS, 8)
# Per-stimulus steering takes each rank's rows of the vectors; pca is fitted on rank 0 and sent
# to the others.
vectors = c.path("vectors.h5")
with h5py.File(vectors, "w") as f:
    f["per_stimulus"] = np.random.default_rng(3).standard_normal((20, 1000)).astype(np.float32)
equals_single("steered and reduced", uneven,
              ["--layers", "features.8,classifier.6", "--steer-source", "classifier.6", "--condition", "none=none",
               "--condition", f"each={vectors}:/per_stimulus,alpha=2", "--reduce",
               "features.8=pca:4,classifier.6=srp:16", "--pca-fit", uneven], 8)
idle = make_images(c.path("idle.h5"), 12, seed=1)
idle_reference = equals_single("idle rank", idle, LAYERS, 8)
# Rank 0 alone fits pca and sends the components to the other rank.
equals_single("pca fitted on rank 0", uneven,
              ["--layers", "features.8,classifier.6", "--reduce", "pca:4", "--pca-fit", idle], 8, ranks=2)

# A join that stops (its output path is a folder, so the final rename fails) is redone by --resume.
stopped = c.path("stopped.h5")
os.mkdir(stopped)
idle_args = [*BASE, *LAYERS, "--batch-size", "8", "--stimuli", idle, "--out", stopped]
p = mpi_run(*idle_args)
c.check("stopped join: exit status 2, the output's .partial and the other parts left",
        p.returncode == 2 and leftovers(stopped) == ["stopped.h5.partial", "stopped.h5.rank1.partial"],
        f"status {p.returncode}: {leftovers(stopped)}")
os.rmdir(stopped)
p = mpi_run(*idle_args, "--resume")
c.check("stopped join: --resume joins again and equals the single-process file",
        p.returncode == 0 and idle_reference is not None and not differences(idle_reference, contents(stopped))
        and leftovers(stopped) == [], f"status {p.returncode}: {p.stderr.strip()[-300:]} {leftovers(stopped)}")

# 2. One rank killed mid-run; --resume continues every rank's part and joins them.
stim = make_images(c.path("stim.h5"), 120, seed=2)
run_args = [*BASE, "--layers", "all", "--batch-size", "8", "--stimuli", stim]
reference = equals_single("resume reference", stim, ["--layers", "all"], 8)
out = c.path("killed.h5")
part1 = out + ".rank1.partial"


def rank_pid(launcher, rank):
    """The pid of rank `rank` of a job mpirun `launcher` started (its children, by OMPI_COMM_WORLD_RANK)."""
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(stat[:-4] + "environ", "rb") as f:
                env = f.read().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == launcher.pid and f"OMPI_COMM_WORLD_RANK={rank}".encode() in env:
            return int(stat.split("/")[2])
    return None


p = subprocess.Popen([*mpirun(), c.lrm, "--quiet", *run_args, "--out", out], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
# Rank 1's part grows to ~37 MB in 5 batches; at 24 MB it writes its third or later batch, so the
# rows recorded as complete on disk (each flush persists the previous batch's) are past its first.
deadline = time.time() + 240
while time.time() < deadline and p.poll() is None and (not os.path.exists(part1) or os.path.getsize(part1) < 24 * 2**20):
    time.sleep(0.05)
victim = rank_pid(p, 1) if p.poll() is None else None
c.check("rank 1 found mid-run", victim is not None, f"mpirun status {p.poll()}")
if victim is not None:
    os.kill(victim, 9)
try:
    _, err = p.communicate(timeout=120)
except subprocess.TimeoutExpired:
    p.kill()
    _, err = p.communicate()
    c.check("the job ends when a rank is killed (nothing hangs)", False)
c.check("killed rank: the job fails and leaves no output", p.returncode != 0 and not os.path.exists(out),
        f"status {p.returncode}")
c.check("killed rank: only part files are left", all(n.endswith(".partial") for n in leftovers(out))
        and os.path.exists(part1), str(leftovers(out)))
if os.path.exists(part1):
    with h5py.File(part1, "r") as f:
        done = int(f["activations"].attrs.get("rows_complete", 0))
    c.check("killed rank: its part records rows done, to resume after", 40 < done <= 80, str(done))
c.bad_input("--resume of an MPI run's parts by one process", [*run_args, "--out", out, "--resume"], "MPI")
r = mpi_run(*run_args, "--out", out, "--resume")
c.check("--resume after a killed rank finishes", r.returncode == 0 and os.path.exists(out)
        and leftovers(out) == [], f"status {r.returncode}: {r.stderr.strip()[-500:]} {leftovers(out)}")
if r.returncode == 0 and reference is not None:
    got = contents(out)
    c.check("resumed file equals the single-process file", not differences(reference, got),
            differences(reference, got))

# 3. Bad input that only one rank sees: an unreadable image in the last rank's rows ends the job
# with that rank's one line and exit status 2, leaving only part files.
folder = c.path("images")
write_bar_images(folder, {"a": 6, "b": 6}, 64, 8, np.random.default_rng(5))
broken = os.path.join(folder, "b", "05.png")  # the last image: rank 2's rows
with open(broken, "rb") as f:
    data = f.read()
with open(broken, "wb") as f:  # a readable header (every rank checks it) but truncated pixels
    f.write(data[:len(data) // 2])
bad_out = c.path("bad.h5")
r = mpi_run(*BASE, "--layers", "classifier.6", "--batch-size", "4", "--stimuli", folder, "--out", bad_out,
            timeout=120)
# mpirun adds its own banner; the other ranks, ended by it, print nothing.
lines = [l for l in r.stderr.splitlines() if l.startswith("lrm:")]
c.check("a bad image on one rank: exit status 2 and its one line", r.returncode == 2 and len(lines) == 1
        and "05.png" in lines[0],
        f"status {r.returncode}: {r.stderr.strip()[-800:]}")
c.check("a bad image on one rank: only part files left", not os.path.exists(bad_out)
        and all(n.endswith(".partial") for n in leftovers(bad_out)), str(leftovers(bad_out)))
if c.failed == 0:
    shutil.rmtree(c.tmp)  # about 700 MB of activations
c.finish()
