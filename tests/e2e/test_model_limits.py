#!/usr/bin/env python3
"""Model commands stop cleanly at the limits: non-finite weights name the first such parameter, a
diverging training run names the epoch and batch and keeps no NaN weights, out-of-range passes
and input sizes are one clear line before any work, and Ctrl-C stops the model's set-up and a
long batch within 2 s.
Usage: /usr/bin/python3 tests/e2e/test_model_limits.py path/to/lrm"""
import glob
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import torch
from PIL import Image

from lrm_e2e import Checks

c = Checks("model_limits")
rng = np.random.default_rng(0)

folder = c.path("set")
for k, name in enumerate(["a", "b"]):
    os.makedirs(os.path.join(folder, name))
    for i in range(8):
        im = rng.integers(0, 255, size=(28, 28)).astype(np.uint8)
        Image.fromarray(im).save(os.path.join(folder, name, f"{i}.png"))

# Non-finite weights: a checkpoint written by lrm train, with one NaN put into a copy.
ck = c.path("model.pt")
c.run("--threads", "2", "train", "--model", "mnist-ff", "--stimuli", folder, "--epochs", "1", "--num-classes", "10",
      "--out", ck)
state = {k: v.clone() for k, v in torch.load(ck)["state_dict"].items()}
state["feedforward.features.3.weight"][0, 0, 0, 0] = float("nan")
bad = c.path("nan.pth")
torch.save(state, bad)
c.bad_input("non-finite weights name the parameter",
            ["evaluate", "--model", "mnist-ff", "--weights", bad, "--stimuli", folder, "--out", c.path("e.h5")],
            "feedforward.features.3.weight")

# A peak learning rate that makes the loss overflow.
diverged = c.path("diverged.pt")
c.bad_input("a diverging run names the epoch and batch",
            ["train", "--model", "mnist-ff", "--stimuli", folder, "--epochs", "1", "--batch-size", "4", "--lr",
             "1e30", "--warmup", "0", "--out", diverged], "epoch 1, batch")
c.check("no checkpoint with NaN weights is written", not os.path.exists(diverged))

c.bad_input("extract --passes 99999 before any work",
            ["extract", "--model", "mnist-lrm", "--stimuli", c.path("missing"), "--layers", "classifier.6",
             "--passes", "99999", "--out", c.path("x.h5")], "--passes: pass 99999")
c.bad_input("model info at 100000x100000", ["model", "info", "mnist-lrm", "--input-size", "100000x100000"],
            "--input-size")

# Ctrl-C during the model's set-up and inside one long batch (32 images, 31 passes of AlexNet-LRM3).
x = c.path("x.h5")
with h5py.File(x, "w") as f:
    f["x"] = rng.standard_normal((32, 3, 224, 224)).astype(np.float32)
long_out = c.path("long.h5")


def catches_sigint(p):
    """Whether the process has its SIGINT handler in place (SigCgt in /proc/<pid>/status)."""
    try:
        with open(f"/proc/{p.pid}/status") as f:
            caught = next(int(l.split()[1], 16) for l in f if l.startswith("SigCgt:"))
    except OSError:  # it has just ended
        return False
    return bool(caught & (1 << (signal.SIGINT - 1)))


def interrupted_run(ready, then=0.0):
    """(was running when signalled, seconds from SIGINT to exit, status, stderr) of a run signalled
    `then` seconds after ready(process) first holds."""
    for left in glob.glob(long_out + "*"):  # the earlier run's .partial
        os.remove(left)
    p = subprocess.Popen([c.lrm, "--quiet", "--threads", "2", "extract", "--model", "alexnet-lrm3", "--stimuli",
                          x + ":/x", "--layers", "classifier.6", "--passes", "0,30", "--batch-size", "32", "--out",
                          long_out], stderr=subprocess.PIPE, text=True)
    while p.poll() is None and not ready(p):
        time.sleep(0.01)
    time.sleep(then)
    running = p.poll() is None
    sent = time.time()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate()
    return running, time.time() - sent, p.returncode, err.strip()


def stopped_in_time(label, run, left):
    running, waited, status, err = run
    c.check(f"Ctrl-C {label} stops within 2 s ({waited:.2f} s), leaving {left or 'nothing'}",
            running and waited < 2 and status == 130 and glob.glob(long_out + "*") == [long_out + s for s in left],
            f"status {status}, files {glob.glob(long_out + '*')}: {err}")


# Signalled as soon as its handler is in place, the run is building the model (random
# initialisation: seconds on a loaded machine), before it opens its output.
stopped_in_time("during the model's set-up", interrupted_run(catches_sigint), [])
# The .partial appears once the model is built; a second later the first batch is running.
stopped_in_time("inside a batch", interrupted_run(lambda p: os.path.exists(long_out + ".partial"), then=1),
                [".partial"])
c.finish()
