#!/usr/bin/env python3
"""Backbones and feedback on any ConvNet: the issue's exact `lrm extract` command on a ResNet-18
with the published weights layout (tests/fixtures/model/backbones: logits of passes 0-2 from the
published code, unsteered and steered at alpha 3), `lrm model info` of each family, a model trained
with --feedback that later commands rebuild from --weights alone, and the bad input.
Usage: /usr/bin/python3 tests/e2e/test_backbones.py path/to/lrm"""
import os
import subprocess
import sys

import h5py
import numpy as np
from PIL import Image

from lrm_e2e import Checks

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "model", "backbones")
c = Checks("backbones")

# 1. The command: published.pth written at test time by the fixture generator (weights by
# the fixture's formula), x.h5:/x the fixture's inputs.
RESNET_FEEDBACK = "fc:layer4.0.conv1,layer4.1:layer2.0.conv1,layer3.1:conv1"
pth, x, goal = c.path("published.pth"), c.path("x.h5"), c.path("goal.h5")
subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests/fixtures/model/gen_backbone_parity.py"),
                "--write-pth", "resnet18", pth], check=True, capture_output=True)
fixture = h5py.File(os.path.join(FIXTURES, "resnet18.h5"), "r")
with h5py.File(x, "w") as f:
    f["x"] = fixture["x"][()]
with h5py.File(goal, "w") as f:
    f["goal"] = fixture["goal"][()]
out = c.path("o.h5")
c.run("extract", "--model", "resnet18", "--feedback", RESNET_FEEDBACK, "--weights", pth, "--stimuli", x + ":/x",
      "--layers", "fc", "--passes", "0,1,2", "--out", out)
steered = c.path("steered.h5")
c.run("extract", "--model", "resnet18", "--feedback", RESNET_FEEDBACK, "--weights", pth, "--stimuli", x + ":/x",
      "--layers", "fc", "--passes", "0,1,2", "--steer-source", "fc", "--steer-vector", goal + ":/goal",
      "--steer-strength", "3", "--out", steered)
for run, path in (("plain", out), ("steered", steered)):
    with h5py.File(path, "r") as f:
        diffs = [float(np.abs(f[f"activations/fc/pass{k}"][()] - fixture[f"logits/{run}/pass{k}"][()]).max())
                 for k in range(3)]
    c.check(f"resnet18 logits of passes 0-2 ({run}) equal the published code's within 1e-4: {diffs}",
            max(diffs) < 1e-4)

# 2. model info of each family names the reference modules, shapes and pathways.
for model, feedback, expect in (
        ("resnet18", RESNET_FEEDBACK, ["layer4.1 ", "BasicBlock", "512×7×7", "layer3.1 -> conv1"]),
        ("vgg11_bn", "classifier.6:features.0,features.28:features.8", ["features.1 ", "BatchNorm2d",
                                                                        "classifier.6 -> features.0"]),
        ("cornet_s", "decoder.linear:V1.conv1,IT.output:V2.conv_input", ["V2.conv_input", "CORblock_S",
                                                                         "V4.norm1_3", "128×28×28"]),
        ("cornet_z", "IT:V1.conv", ["V1.conv ", "CORblock_Z", "decoder.linear", "IT -> V1.conv"])):
    p = c.run("model", "info", model, "--feedback", feedback)
    missing = [e for e in expect if e not in p.stdout]
    c.check(f"model info {model} --feedback {feedback}", not missing, f"missing {missing}")
p = c.run("model", "info", "alexnet", "--feedback", "lrm3", "--motif", "additive")
c.check("model info alexnet --feedback lrm3 is alexnet-lrm3's pathways, additive",
        "classifier.2 -> features.6" in p.stdout and "additive motif" in p.stdout)

# 3. Train with --feedback: the checkpoint records backbone, pathways and motif, so later commands
# need only --weights; --feedback with other pathways is refused.
rng = np.random.default_rng(0)
folder = c.path("set")
for k, name in enumerate(("faces", "bodies", "objects")):
    os.makedirs(os.path.join(folder, name))
    for i in range(6):
        im = rng.integers(0, 60, size=(28, 28)).astype(np.uint8)
        im[3 + 8 * k:7 + 8 * k, 4:24] = 255
        Image.fromarray(im).save(os.path.join(folder, name, f"{i:02d}.png"))
ck = c.path("trained.pt")
MNIST_FEEDBACK = "classifier.6:features.3,features.12:features.0"
c.run("--threads", "2", "train", "--model", "mnist-ff", "--feedback", MNIST_FEEDBACK, "--motif", "additive",
      "--stimuli", folder, "--epochs", "1", "--batch-size", "6", "--out", ck)
p = c.run("model", "info", ck)
c.check("a trained checkpoint records its pathways and motif",
        "classifier.6 -> features.3" in p.stdout and "additive motif" in p.stdout, p.stdout[:300])
acts = c.path("trained_acts.h5")
c.run("extract", "--weights", ck, "--stimuli", folder, "--layers", "features.0:F", "--passes", "1", "--out", acts)
with h5py.File(acts, "r") as f:
    c.check("extract with --weights alone runs the trained pathways",
            f["activations/features.0:F/pass1"].shape[0] == 18)

# 4. Bad input: one line each, exit 2.
stim = ["--stimuli", x + ":/x", "--layers", "fc", "--out", c.path("bad.h5")]
c.bad_input("unknown module name lists the closest names",
            ["extract", "--model", "resnet18", "--feedback", "fc:layer4.0.conv9", *stim], "layer4.0.conv1")
c.bad_input("a pathway into a module without spatial output",
            ["extract", "--model", "resnet18", "--feedback", "layer4:fc", *stim], "no spatial")
c.bad_input("--feedback with a checkpoint trained with other pathways",
            ["extract", "--weights", ck, "--feedback", "classifier.6:features.0", "--stimuli", folder,
             "--layers", "classifier.6", "--out", c.path("bad.h5")], "--feedback")
c.bad_input("weights of another backbone name the first keys with their shapes",
            ["extract", "--model", "vgg11", "--feedback", "classifier.6:features.0", "--weights", pth, *stim[:2],
             "--layers", "classifier.6", "--out", c.path("bad.h5")], "feedforward.conv1.weight 64×3×7×7")
c.bad_input("unknown layer to extract lists the closest names",
            ["extract", "--model", "cornet_z", "--stimuli", x + ":/x", "--layers", "V2.outptu", "--out",
             c.path("bad.h5")], "V2.output")
c.bad_input("unknown backbone lists the backbones", ["model", "info", "resnet19"], "resnet18")
c.bad_input("a malformed pathway", ["model", "info", "resnet18", "--feedback", "fc-conv1"], "--feedback")
c.finish()
