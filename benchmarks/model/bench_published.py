#!/usr/bin/env python3
"""PyTorch peer of `lrm model bench MODEL --feedback ...`: the published lrm-steering LRMNet on a
torchvision backbone (random weights), no-grad forward of N passes, median time per call.
The published code is exported from a git mirror of harvard-visionlab/lrm-steering to a temporary
folder and imported from there."""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import torch
import torchvision

ap = argparse.ArgumentParser()
ap.add_argument("--lrm-steering", required=True, metavar="MIRROR", help="git dir of harvard-visionlab/lrm-steering")
ap.add_argument("--model", default="resnet50")
ap.add_argument("--feedback", required=True, help="source:destination[,...]")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--batch-size", type=int, default=32)
ap.add_argument("--passes", type=int, default=2)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--input-size", type=int, default=224)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run(f"git -C '{a.lrm_steering}' archive HEAD | tar -x -C '{tmp}'", shell=True, check=True)
    sys.path.insert(0, tmp)
    from lrm_models import LRMNet

    conns = [dict(source=p.split(":")[0], destination=p.split(":")[1]) for p in a.feedback.split(",")]
    net = LRMNet(getattr(torchvision.models, a.model)(), conns, forward_passes=a.passes,
                 img_size=a.input_size).eval()
x = torch.randn(a.batch_size, 3, a.input_size, a.input_size)
times = []
with torch.no_grad():
    net(x)
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        net(x)
        times.append(time.perf_counter() - t0)
times.sort()
print(f"pytorch {a.model} + {len(conns)} pathways (published LRMNet) batch {a.batch_size}, {a.passes} passes: "
      f"{times[len(times) // 2]:.4f} s per call (median of {a.repeats})")
