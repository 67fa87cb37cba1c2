#!/usr/bin/env python3
"""End-to-end checks of the LRM model commands: model info, extract (parity with an independent
PyTorch implementation on AlexNet-LRM3 with seeded random weights, steering, side-by-side input),
bad input, and train/evaluate/robustness on a small MNIST subset.
Usage: /usr/bin/python3 tests/e2e/test_model.py path/to/lrm"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import xarray as xr

LRM = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
failures = 0


def check(name, ok, detail=""):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} {name}{(': ' + detail) if detail else ''}")
    failures += not ok


def lrm(*args, expect=0, quiet=True):
    r = subprocess.run([LRM, *(["--quiet"] if quiet else []), "--threads", "2", *args], capture_output=True,
                       text=True, cwd=ROOT)
    if r.returncode != expect:
        print(r.stdout, r.stderr)
    return r


tmp = tempfile.mkdtemp(prefix="lrm_e2e_model_")

# model info
r = lrm("model", "info", "alexnet-lrm3")
check("model info alexnet-lrm3 lists shapes and pathways",
      r.returncode == 0 and "64×55×55" in r.stdout and "classifier.2 -> features.6" in r.stdout)
r = lrm("model", "info", "alexnet-lrm3", "--input-size", "224x448")
check("model info at 224x448 keeps the classifier at 9216 inputs", r.returncode == 0 and "256×6×6" in r.stdout)
r = lrm("model", "info", "alexnet-lrm9", expect=2)
check("unknown preset lists the presets", r.returncode == 2 and "alexnet-lrm3" in r.stderr, r.stderr.strip())

# AlexNet-LRM3 parity with the independent PyTorch implementation (weights written at test time).
fx = os.path.join(tmp, "alexnet")
subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests/fixtures/model/gen_lrm_parity.py"), "--alexnet", fx],
               check=True)
ckpt, inputs = os.path.join(fx, "alexnet_lrm3.pth"), os.path.join(fx, "inputs.h5")
expected = h5py.File(os.path.join(fx, "expected.h5"), "r")
runs = {
    "plain": ["--stimuli", inputs + ":/x"],
    "steered": ["--stimuli", inputs + ":/x", "--steer-source", "classifier.6", "--steer-vector", inputs + ":/v",
                "--steer-strength", "3"],
    "wide": ["--stimuli", inputs + ":/wide"],
}
for run, args in runs.items():
    out = os.path.join(tmp, run + ".h5")
    r = lrm("extract", "--model", "alexnet-lrm3", "--weights", ckpt, "--layers", "classifier.6", "--passes", "0,1,2",
            "--out", out, *args)
    if r.returncode != 0:
        check(f"extract {run}", False, r.stderr.strip())
        continue
    with h5py.File(out, "r") as f:
        err = max(float(np.abs(f[f"activations/classifier.6/pass{k}"][()] - expected[f"logits/{run}/pass{k}"][()]).max())
                  for k in range(3))
    check(f"AlexNet-LRM3 {run}: C++ logits match PyTorch (passes 0-2)", err < 1e-4, f"max abs error {err:.2e}")

ds = xr.open_dataset(os.path.join(tmp, "plain.h5"), group="activations/classifier.6", engine="h5netcdf")
check("activations open in xarray with labelled dims",
      ds["pass1"].dims == ("stimulus", "unit") and ds["pass1"].shape == (2, 1000) and "category" in ds.coords
      and "channel" in ds.coords, str(ds))

# Bad input.
bad_v = os.path.join(tmp, "bad_v.h5")
with h5py.File(bad_v, "w") as f:
    f["v"] = np.zeros((1, 10), np.float32)
r = lrm("extract", "--model", "alexnet-lrm3", "--weights", ckpt, "--stimuli", inputs + ":/x", "--layers",
        "classifier.6", "--passes", "0,1", "--steer-source", "classifier.6", "--steer-vector", bad_v + ":/v",
        "--out", os.path.join(tmp, "bad.h5"), expect=2)
check("steering vector of the wrong length is an input error", r.returncode == 2 and "1000" in r.stderr,
      r.stderr.strip())
r = lrm("extract", "--model", "alexnet-lrm3", "--weights", ckpt, "--stimuli", inputs + ":/x", "--layers",
        "features.99", "--out", os.path.join(tmp, "bad.h5"), expect=2)
check("unknown layer lists the layers", r.returncode == 2 and "classifier.6" in r.stderr, r.stderr.strip())
r = lrm("extract", "--model", "alexnet-lrm1", "--weights", ckpt, "--stimuli", inputs + ":/x", "--layers",
        "classifier.6", "--out", os.path.join(tmp, "bad.h5"), expect=2)
check("checkpoint of another architecture names the keys",
      r.returncode == 2 and "lrm.features_6_modulation.from_classifier_2_to_features_6" in r.stderr)
truncated = os.path.join(tmp, "truncated.pth")
with open(ckpt, "rb") as f, open(truncated, "wb") as g:
    g.write(f.read(10_000_000))
r = lrm("model", "info", "alexnet-lrm3", "--weights", truncated, expect=2)
check("truncated checkpoint is an input error", r.returncode == 2 and "truncated.pth" in r.stderr, r.stderr.strip())
os.remove(ckpt)

# MNIST models: a short training run on a subset, evaluation, resume and robustness.
mnist = os.path.join(tmp, "mnist.h5")
r = lrm("stimuli", "import", "mnist", "--out", mnist)
if r.returncode != 0:
    print("skip MNIST checks (no MNIST import available):", r.stderr.strip())
else:
    ck = os.path.join(tmp, "mnist_lrm.pt")
    # Two epochs: with the default recipe the first is mostly spent leaving the initial plateau.
    r = lrm("train", "--model", "mnist-lrm", "--stimuli", mnist, "--epochs", "2", "--out", ck)
    check("train mnist-lrm 2 epochs", r.returncode == 0 and os.path.exists(ck), r.stderr.strip())
    r = lrm("train", "--model", "mnist-lrm", "--stimuli", mnist, "--epochs", "2", "--out", ck, "--resume", quiet=False)
    check("resume after the last epoch has nothing left to do", r.returncode == 0 and "after epoch 2" in r.stdout)
    ev = os.path.join(tmp, "eval.h5")
    r = lrm("evaluate", "--weights", ck, "--stimuli", mnist, "--split", "test", "--out", ev)
    if r.returncode == 0:
        top1 = xr.open_dataset(ev, group="evaluation", engine="h5netcdf")["top1"].values
        check("evaluate after 2 epochs: pass 1 top-1 > 50% (chance 10%)", top1[0, 1] > 0.5, str(top1))
    else:
        check("evaluate", False, r.stderr.strip())
    rob = os.path.join(tmp, "rob.h5")
    r = lrm("robustness", "--weights", ck, "--baseline", ck, "--stimuli", mnist, "--split", "test",
            "--epsilons", "0,0.1,0.2", "--out", rob)
    if r.returncode == 0:
        acc = xr.open_dataset(rob, group="robustness", engine="h5netcdf")["accuracy"]
        check("robustness: accuracy falls with epsilon", acc.dims == ("model", "epsilon", "pass")
              and float(acc[0, -1, 1]) < float(acc[0, 0, 1]), str(acc.values))
    else:
        check("robustness", False, r.stderr.strip())

print("FAILED" if failures else "all model checks passed")
sys.exit(1 if failures else 0)
