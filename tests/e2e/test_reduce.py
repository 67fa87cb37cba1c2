#!/usr/bin/env python3
"""End-to-end checks of `lrm extract --reduce`: pools equal to PyTorch's on the unreduced
activations, the sparse random projection within the Johnson–Lindenstrauss bound, PCA fitted on
one set and applied to another equal to scikit-learn's within 1e-5 (fit file reused with
--pca-from), attributes and unit coordinates that say what the units are, localize reading a
reduced file, and bad input naming the layer.
Usage: /usr/bin/python3 tests/e2e/test_reduce.py path/to/lrm"""
import math
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lrm_e2e import Checks  # noqa: E402

c = Checks("reduce")
COMMON = ["extract", "--threads", "2", "--model", "alexnet-lrm3", "--batch-size", "8", "--resize", "0", "--crop",
          "0", "--passes", "0,1"]
LAYERS = "features.0,features.10,classifier.5"


def make_images(path, n, seed):
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        f["images"] = rng.integers(0, 256, (n, 3, 64, 64), dtype=np.uint8)
        f["category"] = np.array([("faces", "houses", "cars", "bodies")[i % 4] for i in range(n)], dtype=object)
    return path + ":/images"


def extract(stimuli, out, *args, layers=LAYERS):
    c.run(*COMMON, "--stimuli", stimuli, "--layers", layers, *args, "--out", out)
    return out


def acts(path, layer, pass_=0):
    with h5py.File(path, "r") as f:
        return f["activations"][layer][f"pass{pass_}"][()]


def group_info(path, layer):
    with h5py.File(path, "r") as f:
        g = f["activations"][layer]
        return dict(g.attrs), set(g.keys())


fit_set = make_images(c.path("fit.h5"), 48, 3)
target = make_images(c.path("target.h5"), 24, 4)
plain = extract(target, c.path("plain.h5"))
plain_fit = extract(fit_set, c.path("plain_fit.h5"))

# 1. Pools equal PyTorch's adaptive pools on the unreduced activations, bit for bit.
try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None
pooled = extract(target, c.path("pooled.h5"), "--reduce",
                 "features.0=avgpool:3x3,features.10=maxpool,classifier.5=none")
global_avg = extract(target, c.path("global_avg.h5"), "--reduce", "avgpool,classifier.5=none")
if torch is None:
    c.check("PyTorch (Debian's) is installed for the pool parity", False)
else:
    for p in (0, 1):
        f0 = torch.from_numpy(acts(plain, "features.0", p)).reshape(24, 64, 15, 15)
        f10 = torch.from_numpy(acts(plain, "features.10", p)).reshape(24, 256, 3, 3)
        c.check(f"avgpool:3x3 equals torch adaptive_avg_pool2d exactly (pass {p})",
                np.array_equal(acts(pooled, "features.0", p), F.adaptive_avg_pool2d(f0, (3, 3)).reshape(24, -1).numpy()))
        c.check(f"maxpool equals torch adaptive_max_pool2d exactly (pass {p})",
                np.array_equal(acts(pooled, "features.10", p), F.adaptive_max_pool2d(f10, 1).reshape(24, -1).numpy()))
        c.check(f"avgpool equals torch adaptive_avg_pool2d(·, 1) exactly (pass {p})",
                np.array_equal(acts(global_avg, "features.10", p), F.adaptive_avg_pool2d(f10, 1).reshape(24, -1).numpy()))
c.check("none leaves a layer as extracted", np.array_equal(acts(pooled, "classifier.5", 1), acts(plain, "classifier.5", 1)))
attrs, names = group_info(pooled, "features.0")
with h5py.File(pooled, "r") as f:
    g = f["activations"]["features.0"]
    grid_ok = list(g["channel"][:4]) == [0, 0, 0, 0] and list(g["y"][:4]) == [0, 0, 0, 1] and g["x"][5] == 2
c.check("a pooled layer says what its units are (reduction, shape before, channel/y/x on the grid)",
        attrs.get("reduction") == "avgpool:3x3" and attrs.get("reduced_from_shape") == "64,15,15"
        and attrs.get("unit_shape") == "64,3,3" and {"unit", "channel", "y", "x"} <= names and grid_ok, str(attrs))
attrs, _ = group_info(global_avg, "features.10")
c.check("avgpool gives one unit per channel (a vector layer)", attrs.get("unit_shape") == "256", str(attrs))

# 2. Sparse random projection: pairwise squared distances within the Johnson–Lindenstrauss bound
# at failure probability 0.01 (K ≥ 2 ln(n²/δ) / (ε²/2 − ε³/3), Dasgupta & Gupta).
K = 2000
srp = extract(target, c.path("srp.h5"), "--reduce", f"srp:{K}", layers="features.0")
n, delta = 24, 0.01
eps = next(e / 1e4 for e in range(100, 10000) if 2 * math.log(n * n / delta) / ((e / 1e4) ** 2 / 2 - (e / 1e4) ** 3 / 3) <= K)


def sq_dists(x):
    x = x.astype(np.float64)
    g = x @ x.T
    d = np.diag(g)
    return (d[:, None] + d[None, :] - 2 * g)[~np.eye(len(x), dtype=bool)]


for p in (0, 1):
    ratio = sq_dists(acts(srp, "features.0", p)) / sq_dists(acts(plain, "features.0", p))
    c.check(f"srp:{K} keeps every squared distance within 1 ± {eps:.3f} (pass {p}: {ratio.min():.3f}..{ratio.max():.3f})",
            1 - eps < ratio.min() and ratio.max() < 1 + eps)
attrs, names = group_info(srp, "features.0")
c.check("srp units say what they are (density 1/sqrt(D), scale sqrt(1/(density K)), seed; no channel/y/x)",
        attrs.get("reduction") == f"srp:{K}" and abs(attrs.get("srp_density") - 1 / 120) < 1e-12
        and abs(attrs.get("srp_scale") - math.sqrt(120 / K)) < 1e-9 and attrs.get("srp_seed") == "0"
        and "channel" not in names and "unit" in names, str(attrs))
again = extract(target, c.path("srp_again.h5"), "--reduce", f"srp:{K}:0", layers="features.0")
c.check("the projection is fixed by its seed", np.array_equal(acts(again, "features.0"), acts(srp, "features.0")))
loc = c.run("localize", "--activations", srp, "--target", "all", "--out", c.path("loc.h5"), check=False)
c.check("localize reads a reduced file", loc.returncode == 0, loc.stderr.strip())

# 3. PCA fitted on one set, applied to another, against scikit-learn (svd_solver full; signs as
# svd_flip with u_based_decision=False: each component's largest entry positive).
fitted = extract(target, c.path("pca.h5"), "--reduce", "pca:10", "--pca-fit", fit_set,
                 layers="features.10,classifier.5")
try:
    from sklearn.decomposition import PCA
except ImportError:
    PCA = None
if PCA is None:
    c.check("scikit-learn (Debian's) is installed for the PCA parity", False)
else:
    with h5py.File(fitted, "r") as f:
        for layer in ("features.10", "classifier.5"):
            for p in (0, 1):
                ref = PCA(10, svd_solver="full").fit(acts(plain_fit, layer, p).astype(np.float64))
                comp = ref.components_ * np.sign(ref.components_[np.arange(10), np.abs(ref.components_).argmax(1)])[:, None]
                fit = f["pca"][layer][f"pass{p}"]
                y_ref = (acts(plain, layer, p).astype(np.float64) - ref.mean_) @ comp.T
                y = acts(fitted, layer, p)
                c.check(f"pca {layer} pass {p}: components, mean and explained variance within 1e-5 of scikit-learn",
                        np.abs(fit["components"][()] - comp).max() < 1e-5 and np.abs(fit["mean"][()] - ref.mean_).max() < 1e-5
                        and np.abs(fit["explained_variance"][()] / ref.explained_variance_ - 1).max() < 1e-5
                        and np.abs(fit["explained_variance_ratio"][()] - ref.explained_variance_ratio_).max() < 1e-5,
                        f"{np.abs(fit['components'][()] - comp).max():.2e}")
                c.check(f"pca {layer} pass {p}: the other set's scores within 1e-5 (relative) of scikit-learn's",
                        np.abs(y - y_ref).max() < 1e-5 * np.abs(y_ref).max(), f"{np.abs(y - y_ref).max():.2e}")
    attrs, names = group_info(fitted, "features.10")
    c.check("pca units say what they are (reduction, fit location, fitting set size; no channel/y/x)",
            attrs.get("reduction") == "pca:10" and attrs.get("pca_fit", "").endswith("pca.h5:/pca/features.10")
            and attrs.get("pca_fit_stimuli") == 48 and "channel" not in names, str(attrs))
reused = extract(target, c.path("pca_from.h5"), "--reduce", "pca", "--pca-from", fitted, layers="features.10,classifier.5")
c.check("--pca-from applies the stored fit (equal to the fitting run's output)",
        all(np.array_equal(acts(reused, l, p), acts(fitted, l, p)) for l in ("features.10", "classifier.5") for p in (0, 1)))
first5 = extract(target, c.path("pca5.h5"), "--reduce", "pca:5", "--pca-from", fitted, layers="features.10")
c.check("pca:5 from a 10-component fit keeps the first five", np.array_equal(acts(first5, "features.10"), acts(fitted, "features.10")[:, :5]))

# An interrupted fitting run resumes with the fits its partial file holds (or fits again when it
# was stopped before they were stored) and equals a straight run.
many = make_images(c.path("many.h5"), 160, 5)
resume_args = [*COMMON, "--stimuli", many, "--layers", "features.0,features.10", "--reduce", "features.10=pca:10",
               "--pca-fit", fit_set]
straight = c.path("pca_straight.h5")
c.run(*resume_args, "--out", straight)
stopped = c.path("pca_stopped.h5")
p = subprocess.Popen([c.lrm, "--quiet", *resume_args, "--out", stopped], stderr=subprocess.PIPE, text=True)
deadline = time.time() + 120
while time.time() < deadline and p.poll() is None and \
        (not os.path.exists(stopped + ".partial") or os.path.getsize(stopped + ".partial") < 2 * 2**20):
    time.sleep(0.02)
mid_run = p.poll() is None
p.send_signal(signal.SIGKILL)
p.communicate()
r = c.run(*resume_args, "--out", stopped, "--resume", check=False)
c.check("a killed fitting run resumes to the straight run's result",
        mid_run and r.returncode == 0
        and all(np.array_equal(acts(stopped, l, q), acts(straight, l, q)) for l in ("features.0", "features.10") for q in (0, 1)),
        f"mid-run {mid_run}, status {r.returncode}, {r.stderr.strip()}")


# 4. Bad input: one line naming the layer (or the option), exit status 2, no output.
def bad(label, args, must_name, layers=LAYERS):
    out = c.path("bad.h5")
    c.bad_input(label, [*COMMON, "--stimuli", target, "--layers", layers, *args, "--out", out], must_name)
    c.check(f"no output for {label}", not os.path.exists(out) and not os.path.exists(out + ".partial"))


bad("a pool on a vector layer", ["--reduce", "maxpool"], "classifier.5")
bad("a pool grid larger than the map", ["--reduce", "features.10=avgpool:4x4"], "features.10")
bad("srp K above the layer's units", ["--reduce", "classifier.5=srp:5000"], "classifier.5")
bad("a PCA fit of another layer", ["--reduce", "pca", "--pca-from", fitted], "features.8", layers="features.8")
bad("a file without PCA fits", ["--reduce", "pca", "--pca-from", plain], "holds no PCA fit")
bad("pca without a fitting set or stored fit", ["--reduce", "pca:10"], "--reduce")
bad("pca K above the fitting set", ["--reduce", "pca:60", "--pca-fit", fit_set], "features.0")
bad("a layer that is not extracted", ["--reduce", "features.3=srp:10"], "features.3")
bad("a malformed reduction", ["--reduce", "srp:ten"], "--reduce")
bad("both a fitting set and stored fits", ["--reduce", "pca:5", "--pca-fit", fit_set, "--pca-from", fitted], "--pca-from")
c.finish()
