#!/usr/bin/env python3
"""Runs every analysis of analyses/paper/ (one per figure and table of the paper) on tiny generated
stand-ins of its inputs: an AlexNet-LRM3 checkpoint with seeded random weights written as the
published ones are, an ImageNet-style validation folder (3 classes named by WordNet ids), an fLoc
folder (10 subcategories), a Brain-Score-style stimulus manifest with V4 and IT assemblies
(netCDF, 2 repetitions) and a file of language-derived prototypes. Checks that each analysis
exits 0 and leaves its stage outputs and its results file with the groups of its figure.
Usage: /usr/bin/python3 tests/e2e/test_paper_analyses.py path/to/lrm [analysis name ...]"""
import csv
import glob
import os
import shutil
import sys
import time

import h5py
import numpy as np
import torch
import torchvision
import xarray as xr
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lrm_e2e import Checks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests/fixtures/model"))
import gen_lrm_parity  # noqa: E402

c = Checks("paper_analyses")
rng = np.random.default_rng(0)


def image(path, tint, size=(40, 48)):
    """Noise around a colour and a stripe frequency of its own, so that even a network with random
    weights tells the categories apart (the localizer finds selective units)."""
    stripes = np.sin(np.arange(size[1]) * (0.2 + tint[0]) * 2)[None, :, None]
    pixels = 255 * np.clip(0.5 * tint + 0.25 * stripes + 0.15 * rng.random((*size, 3)), 0, 1)
    Image.fromarray(pixels.astype(np.uint8)).save(path)


def folders(root, names, per_folder, ext, category=lambda name: name):
    tints = {}
    for name in names:
        tint = tints.setdefault(category(name), rng.random(3))
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for i in range(per_folder):
            image(os.path.join(root, name, f"{name}_{i}.{ext}"), tint)
    return root


def checkpoint(path):
    torch.manual_seed(0)
    net = gen_lrm_parity.LRMNet(torchvision.models.alexnet(), gen_lrm_parity.LRM3, (3, 224, 224)).eval()
    gen_lrm_parity.randomise_feedback(net, torch.Generator().manual_seed(1))
    gen_lrm_parity.save_published(net, path)
    return path


def brainscore(root, n_categories=4, per_category=10, neuroids=6):
    """A manifest of the benchmark's images and one assembly per region, as brainio stores them."""
    os.makedirs(root, exist_ok=True)
    rows = []
    for k in range(n_categories):
        tint = rng.random(3)
        for i in range(per_category):
            name = f"obj{k}_{i}.png"
            image(os.path.join(root, name), tint)
            rows.append({"path": name, "category": f"obj{k}", "id": f"stim{k:02d}{i:02d}"})
    with open(os.path.join(root, "stimuli.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["path", "category", "id"])
        w.writeheader()
        w.writerows(rows)
    ids = [r["id"] for r in rows] * 2
    for region in ("V4", "IT"):
        signal = rng.normal(size=(len(rows), neuroids))
        values = np.concatenate([signal, signal]) + 0.5 * rng.normal(size=(2 * len(rows), neuroids))
        da = xr.DataArray(values, dims=("presentation", "neuroid"), coords={
            "stimulus_id": ("presentation", ids),
            "object_name": ("presentation", [r["category"] for r in rows] * 2),
            "repetition": ("presentation", [0] * len(rows) + [1] * len(rows)),
            "neuroid_id": ("neuroid", [f"{region}_{j}" for j in range(neuroids)]),
            "region": ("neuroid", [region] * neuroids)})
        da.rename("data").to_netcdf(os.path.join(root, f"{region.lower()}.nc"), engine="h5netcdf")
    return root


def language_vectors(path, classes):
    with h5py.File(path, "w") as f:
        f["vectors"] = rng.normal(size=(len(classes), 1000)).astype("float32")
    return path + ":/vectors"


FLOC = {"adult": "faces", "child": "faces", "body": "bodies", "limb": "bodies", "corridor": "places",
        "house": "places", "word": "characters", "number": "characters", "car": "objects", "instrument": "objects"}
# Variables: an override of an undeclared one, a malformed override, a {name} that is no variable.
fig2a = os.path.join(ROOT, "analyses/paper/fig2a-accuracy.toml")
c.bad_input("--set of a variable the analysis does not declare", ["run", fig2a, "--set", "imagenet=x"],
            "--set: analysis " + fig2a + " has no variable 'imagenet' (its variables: checkpoint, imagenet_val")
c.bad_input("--set without a value", ["run", fig2a, "--set", "checkpoint"], "--set: expected name=value")
with open(c.path("undeclared.toml"), "w") as f:
    f.write('[vars]\nx = "1"\n[[stage]]\nname = "s"\nargs = ["model", "info", "{y}"]\noutput = "o"\n')
c.bad_input("a stage naming an undeclared variable", ["run", c.path("undeclared.toml")],
            "stage 's' uses {y}, which is not a variable of the analysis")

start = time.time()
classes = ["n01440764", "n01443537", "n01484850"]
data = {
    "checkpoint": checkpoint(c.path("alexnet_lrm3.pth")),
    "imagenet_val": folders(c.path("imagenet_val"), classes, 4, "JPEG"),
    "floc": folders(c.path("floc"), list(FLOC), 4, "jpg", FLOC.get),
    "bs": brainscore(c.path("brainscore")),
}
data["language_vectors"] = language_vectors(c.path("language.h5"), classes)
print(f"stand-ins written in {time.time() - start:.1f} s")

# Each analysis with the stand-ins' paths and counts small enough for them.
analyses = {
    "fig2a-accuracy": ({"checkpoint": data["checkpoint"], "imagenet_val": data["imagenet_val"], "num_passes": "3"},
                       {"accuracy.h5": ["evaluation"]}),
    "fig2bc-robustness": ({"checkpoint": data["checkpoint"], "imagenet_val": data["imagenet_val"],
                           "epsilons": "0,0.004,0.016"}, {"robustness.h5": ["robustness"]}),
    "table1-encoding": ({"checkpoint": data["checkpoint"], "brainscore_stimuli": data["bs"] + "/stimuli.csv",
                         "v4_assembly": data["bs"] + "/v4.nc", "it_assembly": data["bs"] + "/it.nc",
                         "layers": "features.12,classifier.5"},
                        {"activations.h5": [], "encode-v4.h5": ["encoding"], "encode-it.h5": ["encoding"]}),
    "fig5c-composites": ({"checkpoint": data["checkpoint"], "imagenet_val": data["imagenet_val"], "composites": "4"},
                         {"prototypes.h5": [], "overlay.h5": ["steering"], "side-by-side.h5": ["steering"]}),
    "fig6b-attention": ({"checkpoint": data["checkpoint"], "floc": data["floc"], "localizer_images": "4",
                         "composites": "4"},
                        {"activations.h5": [], "localizer.h5": ["localizer"], "attend.h5": ["attention"]}),
    "fig7-target-outputs": ({"checkpoint": data["checkpoint"], "imagenet_val": data["imagenet_val"],
                             "language_vectors": data["language_vectors"], "composites": "4"},
                            {"prototypes.h5": [], "target-outputs.h5": ["steering"]}),
    "table4-gain-sweep": ({"checkpoint": data["checkpoint"], "imagenet_val": data["imagenet_val"], "composites": "4"},
                          {"prototypes.h5": [], "overlay.h5": ["steering"], "side-by-side.h5": ["steering"]}),
}
on_disk = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(ROOT, "analyses/paper/*.toml")))
c.check("every paper analysis is tested", on_disk == sorted(analyses), f"{on_disk}")


def strings(f, name):
    return [v.decode() if isinstance(v, bytes) else v for v in f[name][()]]


# What each figure measures, read from its results file.
measures = {
    "fig2a-accuracy": ("top-1 of every pass", lambda f: f["evaluation/top1"].shape == (1, 3)),
    "fig2bc-robustness": ("accuracy per epsilon and pass, AUC per pass",
                          lambda f: f["robustness/accuracy"].shape == (1, 3, 2) and f["robustness/auc"].shape == (1, 2)),
    "table1-encoding": ("V4 and IT scores per layer and pass",
                        lambda f: all(f[f"{r}/encoding/score_raw"].shape == (4,) for r in ("V4", "IT"))),
    "fig5c-composites": ("prototype steering at gain 3, both composites",
                         lambda f: all(list(f[f"{k}/steering/alpha"][2:]) == [3] for k in ("overlay", "side-by-side"))),
    "fig6b-attention": ("2x2 table of face/place units x attended category",
                        lambda f: f["attention/mean_activation"].shape == (2, 2) and "localizer" in f),
    "fig7-target-outputs": ("every kind of target output",
                            lambda f: strings(f, "steering/steering_type")[2:] ==
                            ["one-hot", "instance", "prototype", "file", "discriminative"]),
    "table4-gain-sweep": ("gains 1 to 5, both composites",
                          lambda f: all(list(f[f"{k}/steering/alpha"][2:]) == [1, 2, 3, 4, 5]
                                        for k in ("overlay", "side-by-side"))),
}

only = sys.argv[2:]  # names of analyses to run (default: all)
for name, (values, outputs) in analyses.items():
    if only and name not in only:
        continue
    sets = []
    for key, value in values.items():
        sets += ["--set", f"{key}={value}"]
    t0 = time.time()
    p = c.run("--threads", "2", "run", os.path.join(ROOT, "analyses/paper", name + ".toml"), *sets, check=False,
              cwd=c.tmp)
    took = time.time() - t0
    c.check(f"{name}: lrm run exits 0 ({took:.1f} s)", p.returncode == 0, p.stderr.strip()[-2000:])
    if p.returncode != 0:
        continue
    out_dir = os.path.join(c.tmp, "runs", "paper", name)
    for output, groups in outputs.items():
        path = os.path.join(out_dir, output)
        ok = os.path.exists(path)
        if ok:
            with h5py.File(path) as f:
                ok = f.attrs.get("complete") == 1 and all(g in f for g in groups)
        c.check(f"{name}: {output} complete with {groups}", ok)
    with h5py.File(os.path.join(out_dir, "results.h5")) as f:
        merged = [k for k in f.keys() if k != "provenance"]
        c.check(f"{name}: results.h5 complete and merged ({merged})", f.attrs.get("complete") == 1 and merged)
        what, holds = measures[name]
        c.check(f"{name}: results.h5 holds {what}", holds(f))
    c.check(f"{name}: report written", os.path.exists(os.path.join(out_dir, "report", "index.html")))

print(f"all analyses in {time.time() - start:.1f} s")
if not c.failed:
    shutil.rmtree(c.tmp)  # the checkpoint alone is 240 MB
c.finish()
