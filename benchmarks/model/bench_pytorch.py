#!/usr/bin/env python3
"""PyTorch peer of `lrm model bench`: the same AlexNet-LRM3 (the independent implementation in
tests/fixtures/model/gen_lrm_parity.py, random weights), no-grad forward of N passes, median time."""
import argparse
import os
import sys
import time

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../tests/fixtures/model"))
from gen_lrm_parity import LRM3, LRMNet  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--batch-size", type=int, default=16)
ap.add_argument("--passes", type=int, default=2)
ap.add_argument("--repeats", type=int, default=5)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
net = LRMNet(torchvision.models.alexnet(), LRM3, (3, 224, 224)).eval()
x = torch.randn(a.batch_size, 3, 224, 224)
times = []
with torch.no_grad():
    net(x, a.passes)
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        net(x, a.passes)
        times.append(time.perf_counter() - t0)
times.sort()
print(f"pytorch alexnet-lrm3 batch {a.batch_size}, {a.passes} passes: {times[len(times) // 2]:.4f} s per call "
      f"(median of {a.repeats})")
