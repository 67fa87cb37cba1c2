#!/usr/bin/env python3
"""Model commands stop cleanly at the limits: non-finite weights name the first such parameter, a
diverging training run names the epoch and batch and keeps no NaN weights, out-of-range passes
and input sizes are one clear line before any work, and Ctrl-C stops a long batch within 2 s.
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

# Ctrl-C inside one long batch (one batch of 32 images, 31 passes of AlexNet-LRM3).
x = c.path("x.h5")
with h5py.File(x, "w") as f:
    f["x"] = rng.standard_normal((32, 3, 224, 224)).astype(np.float32)


def interrupted_run():
    """(was running when signalled, seconds from SIGINT to exit, status, stderr) of one run."""
    for left in glob.glob(c.path("long.h5*")):  # an earlier try's .partial
        os.remove(left)
    p = subprocess.Popen([c.lrm, "--quiet", "--threads", "2", "extract", "--model", "alexnet-lrm3", "--stimuli",
                          x + ":/x", "--layers", "classifier.6", "--passes", "0,30", "--batch-size", "32", "--out",
                          c.path("long.h5")], stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    running = p.poll() is None
    sent = time.time()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate()
    return running, time.time() - sent, p.returncode, err.strip()


# A second try when the first took over 2 s: on a loaded machine (CI runs two tests at once) one
# operation between checks can take longer; a real miss of the check takes tens of seconds twice.
runs = [interrupted_run()]
if not runs[0][1] < 2:
    runs.append(interrupted_run())
ok = [r for r in runs if r[0] and r[1] < 2 and r[2] == 130]
c.check("Ctrl-C inside a batch stops within 2 s (" + ", ".join(f"{r[1]:.2f} s" for r in runs) + ")", bool(ok),
        "; ".join(f"status {r[2]}: {r[3]}" for r in runs))
c.finish()
