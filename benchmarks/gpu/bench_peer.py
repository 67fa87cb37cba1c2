#!/usr/bin/env python3
"""PyTorch peer of the GPU extraction benchmark (benchmarks/gpu/run.sh): the published lrm-steering
LRMNet with AlexNet-LRM3's five pathways (random weights), and forward hooks that copy each
requested layer's output to host memory as the published FeatureExtractor does (detach, then .to
the host), on batches of random images that cross from pinned host memory; then the same model
alone, without hooks, on a batch already on the device. Throughput after warm-up, synchronised.
fp32: TF32 off for cuBLAS and cuDNN; tf32: on for both; bf16: torch.autocast to bfloat16.
The published code is imported from an exported copy (vendor.sh: .gpu-vendor/lrm-steering). Where
torchvision is missing (it is not needed for anything else), its AlexNet is rebuilt here from the
published architecture (torchvision.models.alexnet: the same module names and shapes).
Usage: bench_peer.py --lrm-steering DIR [--device cuda] [--precision fp32|tf32|bf16]"""
import argparse
import contextlib
import sys
import time
import types

import torch
import torch.nn as nn

LRM3 = [("classifier.6", "features.8"), ("features.9", "features.0"), ("classifier.6", "features.10"),
        ("features.12", "features.3"), ("classifier.2", "features.6")]


def alexnet(weights=None, num_classes=1000):
    m = nn.Module()
    m.features = nn.Sequential(
        nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
    m.avgpool = nn.AdaptiveAvgPool2d((6, 6))
    m.classifier = nn.Sequential(
        nn.Dropout(0.5), nn.Linear(256 * 36, 4096), nn.ReLU(inplace=True),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, num_classes))

    def forward(x):
        return m.classifier(torch.flatten(m.avgpool(m.features(x)), 1))
    m.forward = forward
    return m


def backbone():
    try:
        import torchvision
        return torchvision.models.alexnet()
    except ImportError:
        tv, models = types.ModuleType("torchvision"), types.ModuleType("torchvision.models")
        models.alexnet, tv.models = alexnet, models
        sys.modules.update({"torchvision": tv, "torchvision.models": models})
        return alexnet()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lrm-steering", required=True, help="folder holding lrm_models/")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "tf32", "bf16"])
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--batches", type=int, default=20, help="timed batches (after 3 of warm-up)")
    ap.add_argument("--layers", default="features.2,features.5,features.12,classifier.2,classifier.6")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    cuda = a.device.startswith("cuda")
    tf32 = a.precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.manual_seed(0)
    net = backbone()
    sys.path.insert(0, a.lrm_steering)
    from lrm_models.lrmnet import LRMNet
    net = LRMNet(net, [dict(source=s, destination=d) for s, d in LRM3], forward_passes=a.passes,
                 img_size=224).eval().to(a.device)

    def autocast():
        if a.precision != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    host = torch.randn(a.batch_size, 3, 224, 224).pin_memory() if cuda else torch.randn(a.batch_size, 3, 224, 224)
    copies = []
    modules = dict(net.feedforward.named_modules())
    hooks = [modules[name].register_forward_hook(lambda m, i, out: copies.append(out.detach().to("cpu")))
             for name in a.layers.split(",")]

    def rate(step):
        with torch.no_grad(), autocast():
            for _ in range(3):
                step()
            sync()
            t0 = time.perf_counter()
            for _ in range(a.batches):
                step()
            sync()
        return a.batches * a.batch_size / (time.perf_counter() - t0)

    def hooked():
        copies.clear()
        net(host.to(a.device, non_blocking=True))

    with_hooks = rate(hooked)
    assert len(copies) == len(hooks) * a.passes, len(copies)
    for h in hooks:
        h.remove()
    on_device = host.to(a.device)
    alone = rate(lambda: net(on_device))
    print(f"peer {a.precision}: hooks {with_hooks:.0f} images/s, model alone {alone:.0f} images/s "
          f"(batch {a.batch_size}, {a.passes} passes, {a.batches} batches, {a.device})")


if __name__ == "__main__":
    main()
