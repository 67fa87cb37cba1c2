#!/usr/bin/env python3
"""The PyTorch peer of `lrm extract`: AlexNet-LRM3 (random weights), forward hooks on every layer
and on every destination's modulation, writing the same arrays as `lrm extract --layers all`
(layer outputs, <dest>:pre, <dest>:F per pass) batch by batch to HDF5 with h5py, with the suite's
chunking (about 1 MiB of rows, a divisor of the batch) and compression (shuffle + gzip level 1).
Usage: bench_pytorch_hooks.py IMAGE_DIR OUT.h5 --threads 2 --passes 2 --batch-size 32"""
import argparse
import os
import sys
import time

import h5py
import torch
import torchvision
from torchvision import transforms

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/fixtures/model"))
from gen_lrm_parity import LRM3, LRMNet  # noqa: E402  (the spec's reference implementation)


class Modulate(torch.nn.Module):
    """y ← relu(y + y ⊙ F): a module so that a forward hook sees pre, F and the output."""

    def forward(self, pre, F):
        return torch.relu(pre + pre * F)


class HookedLRM(LRMNet):
    def __init__(self):
        super().__init__(torchvision.models.alexnet(), LRM3, (3, 224, 224))
        self.destinations = sorted({d for _, d in LRM3}, key=lambda n: [l for l, _ in self.layers].index(n))
        self.modulate = torch.nn.ModuleDict({d.replace(".", "_"): Modulate() for d in self.destinations})

    def forward(self, x, passes):
        kept = {}
        for k in range(passes):
            self.current_pass = k
            used = dict(kept) if k > 0 else {}
            h, new_kept = x, {}
            for name, m in self.layers:
                h = self.run_layer(name, m, h)
                if name in self.destinations:
                    Fsum = torch.zeros_like(h)
                    for src, dst in self.pathways:
                        if dst == name and src in used:
                            Fsum = Fsum + self.block(src, dst)(used[src], h.shape[2:])
                    h = self.modulate[name.replace(".", "_")](h, Fsum)
                if any(src == name for src, _ in self.pathways):
                    new_kept[name] = h
            kept = new_kept


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("images")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    a = ap.parse_args()
    t0 = time.time()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = HookedLRM().eval()
    pre = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                              transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    data = torchvision.datasets.ImageFolder(a.images, transform=pre)
    loader = torch.utils.data.DataLoader(data, batch_size=a.batch_size, num_workers=0)
    n = len(data)
    f = h5py.File(a.out, "w")
    datasets = {}
    batch = {}

    def keep(name):
        return lambda mod, inputs, output: batch.__setitem__((name, net.current_pass), output)

    def keep_modulation(name):
        def hook(mod, inputs, output):
            batch[(name + ":pre", net.current_pass)] = inputs[0]
            batch[(name + ":F", net.current_pass)] = inputs[1]
            batch[(name, net.current_pass)] = output
        return hook

    for name, m in net.layers:
        if name not in net.destinations:
            m.register_forward_hook(keep(name))
    for d in net.destinations:
        net.modulate[d.replace(".", "_")].register_forward_hook(keep_modulation(d))

    first = 0
    with torch.no_grad():
        for x, _ in loader:
            batch.clear()
            net(x, a.passes)
            for (name, k), t in batch.items():
                rows = t.flatten(1).numpy()
                key = f"activations/{name}/pass{k}"
                if key not in datasets:
                    units = rows.shape[1]
                    chunk_rows = max(1, min((1 << 20) // 4 // units, n, a.batch_size))
                    while a.batch_size % chunk_rows and chunk_rows < n:
                        chunk_rows -= 1
                    datasets[key] = f.create_dataset(key, (n, units), "f4", chunks=(chunk_rows, units),
                                                     compression="gzip", compression_opts=1, shuffle=True)
                datasets[key][first:first + len(x)] = rows
            first += len(x)
    f.close()
    print(f"pytorch+h5py: {n} images, {len(datasets)} arrays, {time.time() - t0:.2f} s")


if __name__ == "__main__":
    main()
