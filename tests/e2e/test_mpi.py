#!/usr/bin/python3
"""`mpirun -n 3 lrm localize | compare encode | compare rsa` on the e2e fixtures: the result files
equal one process's (rsa's --inference too); a rank failing on input it alone reads, a killed rank
and ranks started with different options end the job with one line and no result file; `lrm run`
launches a stage under mpirun. Skipped (exit 0 with a note) only where mpirun is absent.

Usage: test_mpi.py path/to/lrm   (run from the repository root)
"""
import os
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

from lrm_e2e import Checks

if shutil.which("mpirun") is None:
    print("test_mpi: skipped: mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
    sys.exit(0)

c = Checks("mpi")
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]
# One thread per rank: CI has 2 cores for 3 ranks.
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")


def mpi(n, *args, timeout=120):
    return subprocess.run([*MPIRUN, "-n", str(n), c.lrm, "--quiet", "--threads", "1", *args],
                          capture_output=True, text=True, env=ENV, timeout=timeout)


def single(*args):
    return c.run("--threads", "1", *args)


def lrm_lines(stderr):
    """The lines lrm printed (mpirun adds its own banner about MPI_ABORT)."""
    return [l for l in stderr.splitlines() if l.startswith("lrm:")]


def same_results(one, many, top):
    """Every dataset under `top` equal (NaN where NaN), and the same attributes."""
    diffs = []
    with h5py.File(one, "r") as a, h5py.File(many, "r") as b:
        def visit(name, obj):
            path = f"{top}/{name}"
            if path not in b:
                diffs.append(f"{path} missing")
            elif isinstance(obj, h5py.Dataset):
                x, y = obj[...], b[path][...]
                equal = (np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f"
                         else np.array_equal(x, y))
                if not equal:
                    diffs.append(path)
            for k, v in obj.attrs.items():
                if k not in ("DIMENSION_LIST", "REFERENCE_LIST") and not np.array_equal(
                        np.asarray(v), np.asarray(b[path].attrs.get(k))):
                    diffs.append(f"{path}@{k}")
        a[top].visititems(visit)
        complete = b.attrs.get("complete") == 1
    return diffs, complete


def compare_runs(label, top, args, out_flag="--out", ranks=(3,)):
    one = c.path(f"{label}_1.h5")
    single(*args, out_flag, one)
    for n in ranks:
        many = c.path(f"{label}_{n}.h5")
        p = mpi(n, *args, out_flag, many)
        c.check(f"{label}: mpirun -n {n} exits 0", p.returncode == 0, p.stderr.strip()[-400:])
        if p.returncode == 0:
            diffs, complete = same_results(one, many, top)
            c.check(f"{label}: {n} ranks write the file one process writes",
                    not diffs and complete, str(diffs[:5]))


# localize: units split across ranks.
localizer_acts = os.path.join("tests", "fixtures", "localizer", "activations.h5")
compare_runs("localize", "localizer", ["localize", "--activations", localizer_acts, "--target", "all"])

# compare: activations in the README layout for the 92 Kriegeskorte stimuli (as test_compare.py),
# three layers of two passes, so that each rank scores two.
acts = c.path("acts.h5")
rng = np.random.default_rng(0)
ids = [f"kriegeskorte92-{i:03d}" for i in range(1, 93)]
with h5py.File(acts, "w") as f:
    for layer, units in (("conv", 200), ("fc", 50), ("out", 20)):
        g = f.create_group(f"activations/{layer}")
        g["stimulus"] = np.array(ids, dtype=object)
        latent = rng.standard_normal((92, 6))
        for p in (0, 1):
            g[f"pass{p}"] = np.maximum(latent @ rng.standard_normal((6, units)) +
                                       rng.standard_normal((92, units)), 0).astype(np.float32)
brain = "neural_data/kriegeskorte2008/92_brainRDMs.mat"
compare_runs("rsa", "rsa", ["--seed", "3", "compare", "rsa", "--activations", acts, "--brain", brain,
                            "--noise-ceiling", "--bootstrap", "40", "--save-rdms"])
# One model: its bootstrap resamples are split across all ranks (also unevenly: 41 over 2 and 3).
compare_runs("rsa_one", "rsa", ["--seed", "3", "compare", "rsa", "--activations", acts, "--brain",
                                brain, "--layers", "fc", "--passes", "1", "--bootstrap", "41"],
             ranks=(2, 3))
# --inference: its resamples are split across the ranks too (11 over 2 and 3) and summarised on
# rank 0; the 4 subjects of the 92 stimuli allow all three bootstraps.
for over in ("stimuli", "subjects", "both"):
    compare_runs(f"rsa_inference_{over}", "rsa",
                 ["--seed", "3", "compare", "rsa", "--activations", acts, "--brain", brain,
                  "--inference", over, "--bootstrap", "11"], ranks=(2, 3))
    with h5py.File(c.path(f"rsa_inference_{over}_1.h5"), "r") as f:
        c.check(f"rsa_inference_{over}: one process wrote the 11 resamples of 6 models",
                f["rsa/inference/bootstrap_samples"].shape == (11, 8))

sim = c.path("sim.h5")
single("--seed", "3", "compare", "simulate", "--activations", acts, "--layer", "conv", "--pass", "1",
       "--neuroids", "40", "--repetitions", "6", "--mean-rate", "2", "--out", sim)
compare_runs("encode", "encoding", ["--seed", "3", "compare", "encode", "--activations", acts,
                                    "--brain", f"{sim}:/responses", "--pls-components", "10", "--splits", "3",
                                    "--test-fraction", "0.2"])
# One model: its cross-validation splits are shared by all ranks (5 splits: 2 or 3 ranks share them
# unevenly). conv (200 units > 92 stimuli) takes ridge's kernel form, fc its feature form. PLS is
# not split (one rank scores the model) and must equal one process all the same.
for regression, layer in (("pls", "fc"), ("ridge", "conv"), ("ridgecv", "fc")):
    compare_runs(f"encode_{regression}", "encoding",
                 ["--seed", "3", "compare", "encode", "--activations", acts, "--brain",
                  f"{sim}:/responses", "--layers", layer, "--passes", "0", "--regression", regression,
                  "--pls-components", "5", "--splits", "5", "--test-fraction", "0.2"], ranks=(2, 3))


def encode_neuroid_shares():
    """One ridgecv model with fewer splits than ranks: its neuroids are shared in whole target
    blocks (64 penalties: blocks of 64, so 300 neuroids are 5 blocks, 2+2+1 on 3 ranks, 3+2 on 2).
    conv (200 units > 92 stimuli) takes the kernel form from the streamed Gram, with one
    --test-ids split; fc the primal form from the features, with 2 splits (2 ranks share those)."""
    sim300 = c.path("sim300.h5")
    single("--seed", "4", "compare", "simulate", "--activations", acts, "--layer", "conv", "--pass",
           "0", "--neuroids", "300", "--repetitions", "4", "--mean-rate", "2", "--out", sim300)
    test_ids = c.path("test_ids.txt")
    with open(test_ids, "w") as f:
        f.write("\n".join(ids[::5]) + "\n")
    common = ["--seed", "4", "compare", "encode", "--activations", acts, "--brain",
              f"{sim300}:/responses", "--passes", "0", "--regression", "ridgecv", "--alphas",
              "1e-2:1e6:64"]
    compare_runs("encode_neuroids_kernel", "encoding",
                 [*common, "--layers", "conv", "--test-ids", test_ids], ranks=(2, 3))
    compare_runs("encode_neuroids_primal", "encoding",
                 [*common, "--layers", "fc", "--splits", "2", "--test-fraction", "0.2"],
                 ranks=(2, 3))


encode_neuroid_shares()

# A rank failing on input it alone reads: the 5th model (out/pass0, constant) is rank 1's of 3.
bad_acts = c.path("bad_acts.h5")
shutil.copy(acts, bad_acts)
with h5py.File(bad_acts, "a") as f:
    f["activations/out/pass0"][...] = 1.0
out = c.path("bad_rsa.h5")
p = mpi(3, "compare", "rsa", "--activations", bad_acts, "--brain", brain, "--out", out)
lines = lrm_lines(p.stderr)
c.check("a rank's bad input ends the job: exit 2, its one line naming the input and the rank",
        p.returncode == 2 and len(lines) == 1 and "out/pass0" in lines[0] and "rank 1 of 3" in lines[0],
        f"status {p.returncode}, {p.stderr.strip()[-400:]!r}")
c.check("... leaving no result file, only its .partial",
        not os.path.exists(out) and os.path.exists(out + ".partial"))

# Ranks started with different options (MPMD: rank 0 --seed 1, ranks 1 and 2 --seed 2).
out = c.path("mismatch.h5")
args = ["localize", "--activations", localizer_acts, "--target", "all", "--out", out]
p = subprocess.run([*MPIRUN, "-n", "1", c.lrm, "--seed", "1", *args, ":", "-n", "2", c.lrm, "--seed",
                    "2", *args], capture_output=True, text=True, env=ENV, timeout=120)
lines = lrm_lines(p.stderr)
c.check("different options on different ranks: exit 2, one line naming the ranks",
        p.returncode == 2 and len(lines) == 1 and "differ between MPI ranks" in lines[0] and
        "1,2" in lines[0], f"status {p.returncode}, {p.stderr.strip()[-300:]!r}")
c.check("... before any output", not os.path.exists(out) and not os.path.exists(out + ".partial"))


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


# A rank killed mid-run: mpirun ends the job instead of hanging (a long bootstrap keeps it busy).
out = c.path("killed.h5")
job = subprocess.Popen([*MPIRUN, "-n", "3", c.lrm, "--quiet", "--threads", "1", "compare", "rsa",
                        "--activations", acts, "--brain", brain, "--bootstrap", "200000", "--out", out],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
ranks = []
for _ in range(100):
    ranks = [k for k in children(job.pid) if "lrm" in open(f"/proc/{k}/cmdline").read()]
    if len(ranks) == 3 or job.poll() is not None:
        break
    time.sleep(0.1)
time.sleep(1.0)
if ranks:
    os.kill(ranks[-1], signal.SIGKILL)
try:
    _, err = job.communicate(timeout=60)
    ended = True
except subprocess.TimeoutExpired:
    job.kill()
    _, err = job.communicate()
    ended = False
c.check("a killed rank ends the job (no hang) with a failure status",
        len(ranks) == 3 and ended and job.returncode != 0, f"ranks {ranks}, status {job.returncode}")
c.check("... and no result file", not os.path.exists(out))

# lrm run: a stage launched under mpirun.
run_dir = c.path("run")
analysis = c.path("mpi.toml")
with open(analysis, "w") as f:
    f.write(f'''name = "mpi"
run_dir = "{run_dir}"
[[stage]]
name = "localize"
launch = "{' '.join(MPIRUN)} -n 2"
args = ["localize", "--activations", "{os.path.abspath(localizer_acts)}", "--target", "all",
        "--out", "{{run}}/localize.h5"]
output = "{{run}}/localize.h5"
''')
p = subprocess.run([c.lrm, "--threads", "1", "run", analysis], capture_output=True, text=True, env=ENV,
                   timeout=120)
c.check("lrm run: a stage with launch = \"mpirun ... -n 2\" runs under mpirun",
        p.returncode == 0 and "mpirun" in p.stdout, (p.stdout + p.stderr).strip()[-400:])
if p.returncode == 0:
    diffs, complete = same_results(c.path("localize_1.h5"), os.path.join(run_dir, "localize.h5"),
                                   "localizer")
    c.check("... and writes the one-process result", not diffs and complete, str(diffs[:5]))
with open(analysis) as f:
    text = f.read()
with open(analysis, "w") as f:
    f.write(text.replace(f"-n 2\"", f"-n 2 {c.lrm}\""))
p = subprocess.run([c.lrm, "run", analysis], capture_output=True, text=True, timeout=60)
c.check("lrm run: a launcher that runs lrm itself is refused (exit 2, naming the stage)",
        p.returncode == 2 and "stage 'localize' launch" in p.stderr, p.stderr.strip())

c.finish()
