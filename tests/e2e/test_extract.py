#!/usr/bin/env python3
"""End-to-end checks of `lrm extract`: every AlexNet layer for 2,000 images with bounded memory,
interrupt (SIGINT, SIGKILL) and --resume equal to a straight run, several steering conditions in
one file, TorchScript parity with PyTorch forward hooks, and bad input.
Usage: /usr/bin/python3 tests/e2e/test_extract.py path/to/lrm"""
import os
import resource
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lrm_e2e import Checks  # noqa: E402

c = Checks("extract")
SIZE = ["--resize", "0", "--crop", "0"]  # keep the 64×64 test images (AlexNet's pool adapts)


def make_images(path, n, seed=0):
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        f["images"] = rng.integers(0, 256, (n, 3, 64, 64), dtype=np.uint8)
        f["category"] = np.array([("faces", "houses", "cars", "bodies")[i % 4] for i in range(n)], dtype=object)
        f["category"].attrs["note"] = "test images"
    return path + ":/images"


def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and "/pass" in name:
                out[name] = obj[()]
        f["activations"].visititems(visit)
    return out


def same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def complete(path):
    if not os.path.exists(path):
        return False
    try:
        with h5py.File(path, "r") as f:
            return int(f.attrs.get("complete", 0)) == 1
    except OSError:
        return False


def run_peak_mb(args):
    """Runs lrm; returns (process, the peak resident memory in MB of all children so far)."""
    p = c.run(*args, check=False)
    return p, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


# 1. Memory stays bounded by the batch: all AlexNet-LRM3 layers, passes 0 and 1, for 2,000 images.
# The small run comes first, so the children's peak after it is its own; the big run may raise it
# only a little.
small = make_images(c.path("small.h5"), 200)
big = make_images(c.path("big.h5"), 2000, seed=1)
common = ["extract", "--threads", "2", "--model", "alexnet-lrm3", "--layers", "all", "--passes", "0,1", "--batch-size",
          "32", *SIZE]
p_small, peak_small = run_peak_mb([*common, "--stimuli", small, "--out", c.path("small_out.h5")])
t0 = time.time()
p_big, peak_big = run_peak_mb([*common, "--stimuli", big, "--out", c.path("big_out.h5")])
elapsed = time.time() - t0
c.check("extract all AlexNet layers for 2,000 images", p_big.returncode == 0 and complete(c.path("big_out.h5")),
        p_big.stderr.strip())
if p_big.returncode == 0:
    with h5py.File(c.path("big_out.h5"), "r") as f:
        layers = list(f["activations"].keys())
        logical = sum(f["activations"][l][p].size * 4 for l in layers for p in ("pass0", "pass1")) / 2**20
        shapes_ok = all(f["activations"][l]["pass0"].shape[0] == 2000 for l in layers)
        chunks_ok = all(f["activations"][l]["pass0"].chunks[0] <= 32 and f["activations"][l]["pass0"].compression
                        for l in layers)
    file_mb = os.path.getsize(c.path("big_out.h5")) / 2**20
    print(f"     2,000 images, {len(layers)} layers × 2 passes: output {logical:.0f} MB as float32 ({file_mb:.0f} MB "
          f"compressed); peak memory of lrm {peak_big:.0f} MB (200 images: {peak_small:.0f} MB); {elapsed:.0f} s")
    c.check("every layer of AlexNet-LRM3 (21 outputs, 5 × :pre and :F), 2,000 rows each",
            len(layers) == 31 and shapes_ok, str(layers))
    c.check("chunked along stimuli by the batch and compressed", chunks_ok)
    c.check("peak memory well under the output size", peak_big < 0.5 * logical,
            f"peak {peak_big:.0f} MB vs output {logical:.0f} MB")
    c.check("memory does not grow with the number of stimuli (10× the images)",
            p_small.returncode == 0 and peak_big < 1.1 * peak_small + 32, f"{peak_small:.0f} → {peak_big:.0f} MB")

# 2. Interrupted runs never look complete, and --resume equals a straight run.
stim = make_images(c.path("stim.h5"), 480, seed=2)
run_args = ["extract", "--threads", "2", "--model", "alexnet-lrm3", "--layers", "all", "--passes", "0,1",
            "--batch-size", "16", "--stimuli", stim, *SIZE]
straight = c.path("straight.h5")
c.run(*run_args, "--out", straight)
reference = datasets(straight)
c.check("straight run writes pre-modulation output and F of every destination",
        "features.8:pre/pass1" in reference and "features.0:F/pass1" in reference
        and np.abs(reference["features.8:F/pass1"]).max() > 0 and np.abs(reference["features.8:F/pass0"]).max() == 0)

for sig in (signal.SIGINT, signal.SIGKILL):
    out = c.path(f"interrupted_{sig.name}.h5")
    partial = out + ".partial"
    p = subprocess.Popen([c.lrm, "--quiet", *run_args, "--out", out], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None and \
            (not os.path.exists(partial) or os.path.getsize(partial) < 8 * 2**20):
        time.sleep(0.05)
    stopped_mid_run = p.poll() is None
    p.send_signal(sig)
    _, err = p.communicate()
    c.check(f"{sig.name}: stopped mid-run", stopped_mid_run)
    c.check(f"{sig.name}: no complete-looking output", not complete(out) and not os.path.exists(out)
            and not complete(partial), f"status {p.returncode}, {err.strip()}")
    if sig == signal.SIGINT:
        c.check("SIGINT: exit status 130 and a note on --resume", p.returncode == 130 and "--resume" in err, err)
        with h5py.File(partial, "r") as f:
            done = int(f["activations"].attrs["rows_complete"])
        c.check("SIGINT: the partial file records the rows done", 0 < done < 480 and done % 16 == 0, str(done))
    r = c.run(*run_args, "--out", out, "--resume", check=False)
    c.check(f"{sig.name}: --resume finishes", r.returncode == 0 and complete(out) and not os.path.exists(partial),
            r.stderr.strip())
    if r.returncode == 0:
        c.check(f"{sig.name}: resumed file equals a straight run", same(datasets(out), reference))

r = c.run(*run_args, "--out", straight, "--resume", check=False, quiet=False)
c.check("--resume of a complete file does nothing", r.returncode == 0 and "already complete" in r.stderr, r.stderr)
p = subprocess.Popen([c.lrm, "--quiet", *run_args, "--out", c.path("changed.h5")], stderr=subprocess.PIPE)
while p.poll() is None and (not os.path.exists(c.path("changed.h5.partial"))
                            or os.path.getsize(c.path("changed.h5.partial")) < 4 * 2**20):
    time.sleep(0.05)
p.send_signal(signal.SIGINT)
p.communicate()
other = ["extract", "--threads", "2", "--model", "alexnet-lrm3", "--layers", "all", "--passes", "0", "--batch-size",
         "16", "--stimuli", stim, *SIZE]
c.bad_input("--resume with other options", [*other, "--out", c.path("changed.h5"), "--resume"], "other options")

# 3. Several steering conditions in one file.
vectors = c.path("vectors.h5")
rng = np.random.default_rng(3)
with h5py.File(vectors, "w") as f:
    f["one"] = rng.standard_normal((1, 1000)).astype(np.float32)
    f["per_stimulus"] = rng.standard_normal((40, 1000)).astype(np.float32)
    f["wrong_rows"] = rng.standard_normal((7, 1000)).astype(np.float32)
few = make_images(c.path("few.h5"), 40, seed=4)
base = ["extract", "--model", "alexnet-lrm3", "--stimuli", few, *SIZE, "--layers", "features.8,classifier.6",
        "--passes", "0,1", "--steer-source", "classifier.6"]
cond = c.path("conditions.h5")
c.run(*base, "--condition", "none=none", "--condition", f"one={vectors}:/one,alpha=3",
      "--condition", f"each={vectors}:/per_stimulus,alpha=2:3,mix=0.5", "--out", cond)
single = c.path("single.h5")
c.run(*base, "--steer-vector", f"{vectors}:/per_stimulus", "--steer-strength", "2,3", "--steer-mix", "0.5",
      "--out", single)
plain = c.path("plain.h5")
c.run(*base[:-2], "--out", plain)
with h5py.File(cond, "r") as f, h5py.File(single, "r") as s, h5py.File(plain, "r") as u:
    g = f["activations/classifier.6"]
    c.check("conditions are written to pass<k>/steer-<name>",
            sorted(g["pass1"].keys()) == ["steer-each", "steer-none", "steer-one"])
    c.check("a condition equals the same steering run alone",
            np.array_equal(g["pass1/steer-each"][()], s["activations/classifier.6/pass1"][()]))
    c.check("the unsteered condition equals an unsteered run",
            np.array_equal(g["pass1/steer-none"][()], u["activations/classifier.6/pass1"][()]))
    c.check("steering changes pass 1 only",
            np.array_equal(g["pass0/steer-one"][()], g["pass0/steer-none"][()])
            and not np.allclose(g["pass1/steer-one"][()], g["pass1/steer-none"][()]))
try:
    import xarray as xr
    ds = xr.open_dataset(cond, group="activations/features.8/pass1", engine="h5netcdf")
    c.check("condition arrays open in xarray with labelled dims", ds["steer-one"].dims == ("stimulus", "unit"))
except Exception as e:  # noqa: BLE001
    c.check("condition arrays open in xarray with labelled dims", False, repr(e))

# 4. TorchScript: a scripted torchvision AlexNet gives PyTorch's forward-hook outputs.
script = c.path("alexnet.pt")
tensors = c.path("tensors.h5")
subprocess.run(["/usr/bin/python3", "-c", f"""
import h5py, numpy as np, torch, torchvision
torch.manual_seed(0)
m = torchvision.models.alexnet().eval()
torch.jit.script(m).save({script!r})
x = torch.randn(6, 3, 64, 64)
got = {{}}
for name in ("features.3", "classifier.6"):
    m.get_submodule(name).register_forward_hook(lambda mod, i, o, name=name: got.__setitem__(name, o))
with torch.no_grad():
    m(x)
with h5py.File({tensors!r}, "w") as f:
    f["x"] = x.numpy()
    for k, v in got.items():
        f["hook/" + k] = v.flatten(1).numpy()
"""], check=True)
ts = c.path("torchscript.h5")
r = c.run("extract", "--torchscript", script, "--stimuli", tensors + ":/x", "--layers", "features.3,classifier.6",
          "--out", ts, check=False)
if r.returncode == 0:
    with h5py.File(ts, "r") as f, h5py.File(tensors, "r") as h:
        err = max(float(np.abs(f[f"activations/{k}/pass0"][()] - h[f"hook/{k}"][()]).max())
                  for k in ("features.3", "classifier.6"))
    c.check("TorchScript model matches PyTorch forward hooks", err < 1e-4, f"max abs error {err:.2e}")
else:
    c.check("TorchScript model extracts", False, r.stderr.strip())
tsf = c.path("torchscript_feedback.h5")
r = c.run("extract", "--torchscript", script, "--feedback", "classifier.6:features.3,features.8:features.0",
          "--stimuli", tensors + ":/x", "--layers", "features.3,classifier.6", "--passes", "0,1", "--out", tsf,
          check=False)
if r.returncode == 0:
    with h5py.File(tsf, "r") as f, h5py.File(tensors, "r") as h:
        p0 = f["activations/classifier.6/pass0"][()]
        p1 = f["activations/classifier.6/pass1"][()]
        err = float(np.abs(p0 - h["hook/classifier.6"][()]).max())
    c.check("TorchScript model with --feedback: pass 0 is the plain forward, pass 1 is modulated",
            err < 1e-4 and np.isfinite(p1).all() and float(np.abs(p1 - p0).max()) > 1e-6,
            f"pass 0 error {err:.2e}, pass 1 change {float(np.abs(p1 - p0).max()):.2e}")
else:
    c.check("TorchScript model with --feedback extracts", False, r.stderr.strip())

# 5. Bad input.
c.bad_input("unknown layer lists the valid names", [*base, "--layers", "features.99", "--out", c.path("b.h5")],
            "features.8:pre")
c.bad_input("pass beyond the model's", ["extract", "--model", "alexnet", "--stimuli", few, *SIZE, "--layers",
                                        "classifier.6", "--passes", "0,1", "--out", c.path("b.h5")], "beyond")
c.bad_input("per-stimulus steering of the wrong length",
            [*base, "--steer-vector", f"{vectors}:/wrong_rows", "--out", c.path("b.h5")], "one row per stimulus (40)")
blocker = c.path("a_file")
open(blocker, "w").close()
c.bad_input("output path not writable", [*base[:-2], "--out", os.path.join(blocker, "out.h5")], "a_file")


def no_big_files():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (3 * 2**20, 3 * 2**20))


full = c.path("full.h5")
p = subprocess.run([c.lrm, "--quiet", "extract", "--model", "alexnet", "--stimuli", small, *SIZE, "--layers",
                    "all", "--out", full], capture_output=True, text=True, preexec_fn=no_big_files)
c.check("write error (file size limit): clear message, exit status 2",
        p.returncode == 2 and "cannot" in p.stderr and "full.h5" in p.stderr
        and len(p.stderr.strip().splitlines()) == 1,
        f"status {p.returncode}: {p.stderr.strip()[:300]}")
c.check("write error: nothing complete-looking left", not os.path.exists(full) and not complete(full + ".partial"))
c.finish()
