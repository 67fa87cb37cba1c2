#!/usr/bin/env python3
"""One home for class order: a model trained on categories whose names differ in length (so that
training's order, shortest name first, differs from the alphabetical one) is steered toward the
outputs it was trained on. `lrm steer`'s accuracy on the composites' images alone equals
`lrm evaluate`'s top-1 on the same images.
Usage: /usr/bin/python3 tests/e2e/test_class_order.py path/to/lrm"""
import os

import h5py
import numpy as np

from lrm_e2e import Checks, write_bar_images

c = Checks("class_order")
rng = np.random.default_rng(0)

# Unequal counts, so that a permuted class order cannot score the same by chance.
counts = {"faces": 6, "bodies": 8, "objects": 10, "cars": 4}
folder = c.path("set")
write_bar_images(folder, counts, 28, 6, rng)

ck = c.path("model.pt")
c.run("--threads", "2", "train", "--model", "mnist-lrm", "--stimuli", folder, "--epochs", "20",
      "--batch-size", "4", "--lr", "0.05", "--out", ck)
ev = c.path("eval.h5")
c.run("--threads", "2", "evaluate", "--weights", ck, "--stimuli", folder, "--out", ev)
with h5py.File(ev, "r") as f:
    top1 = float(f["evaluation/top1"][0, 1])
c.check(f"the trained model tells the categories apart (top-1 {top1:.3f})", top1 > 0.6)

# Enough composites that every image is shown alone at least once (P(missed) < 1e-8).
st = c.path("steer.h5")
c.run("--threads", "2", "steer", "--weights", ck, "--stimuli", folder, "--composites", "300",
      "--types", "one-hot", "--alphas", "1", "--resamples", "10", "--out", st)
with h5py.File(st, "r") as f:
    single = float(f["steering"].attrs["single_image_accuracy"])
    classes = list(f["steering/class"].asstr()[:])
c.check("steer reads the class names in training's output order",
        classes == ["cars", "faces", "bodies", "objects"], str(classes))
c.check(f"steer's single-image accuracy ({single:.3f}) equals evaluate's top-1", abs(single - top1) < 1e-9,
        f"steer {single:.4f}, evaluate {top1:.4f}")
c.finish()
