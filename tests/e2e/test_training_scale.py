#!/usr/bin/env python3
"""Training, evaluation, robustness and prototypes at scale: the images are streamed in batches
(not held in memory), the head has one output per category of the set (--num-classes for more),
--augment imagenet adds torchvision's training recipe, seeded. Checks: the same seed gives the same
weights (with and without augmentation); evaluate's top-1 equals the argmax of lrm extract's
logits; prototypes equal the per-category mean of lrm extract's output; robustness at ε = 0 equals
evaluate; bad input is one line naming the option. Memory and speed figures:
benchmarks/training/run.sh.
Usage: /usr/bin/python3 tests/e2e/test_training_scale.py path/to/lrm"""
import os
import zipfile

import h5py
import numpy as np

from lrm_e2e import Checks, write_bar_images

c = Checks("training_scale")
rng = np.random.default_rng(0)

# Three categories whose names differ in length (training's class order: shortest name first).
counts = {"horses": 10, "dog": 12, "cats": 8}
folder = c.path("set")
write_bar_images(folder, counts, 32, 8, rng)
classes = sorted(counts, key=lambda s: (len(s), s))
size = ["--crop", "28"]


def train(out, *extra, epochs="4", seed="0"):
    c.run("--seed", seed, "--threads", "2", "train", "--model", "mnist-lrm", "--stimuli", folder, *size, "--epochs",
          epochs, "--batch-size", "5", "--lr", "0.05", "--out", out, *extra)
    return out


def tensors(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if "/data/" in n}


a = train(c.path("a.pt"), epochs="15")
c.check("the same seed trains the same weights",
        tensors(a) == tensors(train(c.path("a2.pt"), epochs="15")))
c.check("another seed trains other weights", tensors(a) != tensors(train(c.path("s1.pt"), seed="1")))

ex = c.path("ex.h5")
c.run("--threads", "2", "extract", "--weights", a, "--stimuli", folder, *size, "--layers",
      "classifier.6", "--passes", "0,1", "--out", ex)
with h5py.File(ex, "r") as f:
    logits = [f[f"activations/classifier.6/pass{k}"][()] for k in (0, 1)]
    ids = [s.decode() if isinstance(s, bytes) else s for s in f["activations/classifier.6/category"][()]]
labels = np.array([classes.index(s) for s in ids])
c.check("mnist-lrm trained on 3 categories has 3 outputs", logits[0].shape == (30, 3),
        str(logits[0].shape))

ev = c.path("eval.h5")
c.run("--threads", "2", "evaluate", "--weights", a, "--stimuli", folder, *size, "--batch-size", "7",
      "--out", ev)
with h5py.File(ev, "r") as f:
    top1 = f["evaluation/top1"][0, :]
expected = [float(np.mean(l.argmax(1) == labels)) for l in logits]
c.check(f"evaluate's top-1 ({top1[1]:.3f}) equals the argmax of extract's logits",
        np.allclose(top1, expected, atol=1e-12), f"{list(top1)} vs {expected}")
c.check("the trained model tells the categories apart", top1[1] > 0.6, f"{top1}")

rob = c.path("rob.h5")
c.run("--threads", "2", "robustness", "--weights", a, "--stimuli", folder, *size, "--epsilons",
      "0,0.1", "--batch-size", "4", "--out", rob)
with h5py.File(rob, "r") as f:
    acc = f["robustness/accuracy"][0, 0, :]
c.check("robustness at ε = 0 equals evaluate", np.allclose(acc, top1, atol=1e-12), f"{acc} vs {top1}")

pr = c.path("protos.h5")
c.run("--threads", "2", "prototypes", "--weights", a, "--stimuli", folder, *size, "--batch-size", "7",
      "--out", pr)
with h5py.File(pr, "r") as f:
    vectors = f["prototypes/vectors"][()]
    names = [s.decode() if isinstance(s, bytes) else s for s in f["prototypes/category"][()]]
    n_ex = list(f["prototypes/n_exemplars"][()])
means = np.stack([logits[0][np.array(ids) == n].mean(0) for n in names])
c.check("prototypes equal the per-category mean of extract's output",
        np.abs(vectors - means).max() < 1e-5, f"max diff {np.abs(vectors - means).max()}")
c.check("prototypes count every exemplar", n_ex == [counts[n] for n in names], str(n_ex))

ten = train(c.path("ten.pt"), "--num-classes", "10", epochs="1")
ex10 = c.path("ex10.h5")
c.run("extract", "--weights", ten, "--stimuli", folder, *size, "--layers", "classifier.6", "--passes",
      "0", "--out", ex10)
with h5py.File(ex10, "r") as f:
    c.check("--num-classes 10 gives 10 outputs", f["activations/classifier.6/pass0"].shape == (30, 10))

aug = train(c.path("aug.pt"), "--augment", "imagenet", epochs="2")
c.check("augmented training is seeded: the same seed trains the same weights",
        tensors(aug) == tensors(train(c.path("aug2.pt"), "--augment", "imagenet", epochs="2")))
c.check("augmentation changes the weights",
        tensors(aug) != tensors(train(c.path("plain2.pt"), epochs="2")))

# Bad input: one line naming the option.
tensor_set = c.path("tensors.h5")
with h5py.File(tensor_set, "w") as f:
    f["x"] = rng.standard_normal((6, 1, 28, 28)).astype(np.float32)
    f.create_dataset("category", data=["a", "b"] * 3, dtype=h5py.string_dtype())
    f.create_dataset("split", data=["train"] * 6, dtype=h5py.string_dtype())
base = ["train", "--model", "mnist-lrm", "--out", c.path("bad.pt")]
c.bad_input("unknown --augment", base + ["--stimuli", folder, "--augment", "flip"], "--augment")
c.bad_input("--augment on preprocessed tensors",
            base + ["--stimuli", tensor_set + ":/x", "--augment", "imagenet"], "--augment")
c.bad_input("--num-classes below the categories", base + ["--stimuli", folder, "--num-classes", "2"],
            "--num-classes")
c.check("no checkpoint left by refused runs", not os.path.exists(c.path("bad.pt")))
c.finish()
