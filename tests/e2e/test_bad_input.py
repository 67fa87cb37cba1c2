#!/usr/bin/python3
"""The bad-input table (issue 18): every command refuses truncated or corrupt files, unfinished
suite files, an --out that is one of its inputs and out-of-range options with exit status 2 and
one line that names the input, without a traceback or library internals, and leaves no complete
output behind. Inputs are tiny (a random-weight mnist-lrm, 3 × 6 images) and made once.

Usage: /usr/bin/python3 tests/e2e/test_bad_input.py path/to/lrm   (from the repository root)"""
import hashlib
import os
import shutil
import subprocess

import h5py
import numpy as np
import scipy.io as sio
import torch
from PIL import Image

from lrm_e2e import Checks

c = Checks("bad_input")
rng = np.random.default_rng(0)
INTERNALS = ("Traceback", "std::", "basic_string", "bad_alloc", "terminate called", "c10::", "Exception raised",
             "HDF5-DIAG", "what():", "Segmentation", "core dumped", "H5", "at::")


def digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest() if os.path.isfile(path) else None


def case(label, args, must_name, out=None, inputs=()):
    """One row of the table: exit 2, one line (notes aside) naming the input, no internals, and no
    complete file at `out` (an `out` that is an input stays as it was)."""
    before = {p: digest(p) for p in inputs}
    try:
        p = c.run(*args, check=False, quiet=False, timeout=60)
    except subprocess.TimeoutExpired:
        c.check(label, False, "[still running after 60 s]")
        return
    lines = [l for l in p.stderr.strip().splitlines() if l.strip() and not l.startswith("lrm: note:")]
    problems = []
    if p.returncode != 2:
        problems.append(f"status {p.returncode}")
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines")
    if must_name not in p.stderr:
        problems.append(f"does not name {must_name!r}")
    if any(word in p.stderr for word in INTERNALS):
        problems.append("internals")
    if out and out not in inputs and os.path.exists(out):
        problems.append("output left at --out")
    if any(digest(q) != d for q, d in before.items()):
        problems.append("an input changed")
    c.check(f"{label}", not problems, f"[{', '.join(problems)}] stderr: {p.stderr.strip()[:300]!r}")


def out(name):
    return c.path("out", name)


os.makedirs(c.path("out"))

# --- Tiny inputs, made once -------------------------------------------------------------------
CATS = ["a", "b", "c"]
folder = c.path("set")
images, cats, ids = [], [], []
for k, name in enumerate(CATS):
    os.makedirs(os.path.join(folder, name))
    for i in range(6):
        im = rng.integers(0, 60, size=(28, 28)).astype(np.uint8)
        im[3 + 8 * k:6 + 8 * k, 4:24] = 255
        Image.fromarray(im).save(os.path.join(folder, name, f"{i}.png"))
        images.append(im)
        cats.append(name)
        ids.append(f"{name}-{i}")
digits = c.path("digits.h5")
with h5py.File(digits, "w") as f:
    f["images"] = np.stack(images)
    f["category"] = np.array(cats, dtype=h5py.string_dtype())
    f["stimulus"] = np.array(ids, dtype=h5py.string_dtype())
N = len(ids)


def truncated_copy(src, name, keep=None):
    data = open(src, "rb").read()
    dst = c.path(name)
    with open(dst, "wb") as f:
        f.write(data[:keep if keep is not None else len(data) // 2])
    return dst


def copy_of(src, name):
    """A copy for a case that names it as both input and --out (a failing case may overwrite it)."""
    dst = c.path(name)
    shutil.copy(src, dst)
    return dst


def folder_with(name, bad_name, data):
    """A copy of the set with one extra file in category a."""
    dst = c.path(name)
    shutil.copytree(folder, dst)
    with open(os.path.join(dst, "a", bad_name), "wb") as f:
        f.write(data)
    return dst


png = open(os.path.join(folder, "a", "0.png"), "rb").read()
png_set = folder_with("png_set", "cut.png", png[:len(png) // 2])
jpg_path = c.path("whole.jpg")
Image.fromarray(images[0]).convert("RGB").save(jpg_path, quality=90)
jpg = open(jpg_path, "rb").read()
jpg_set = folder_with("jpg_set", "cut.jpg", jpg[:len(jpg) * 2 // 3])

manifest = c.path("set.csv")
with open(manifest, "w") as f:
    f.write("path,category\n" + "".join(f"set/{cat}/{i % 6}.png,{cat}\n" for i, cat in enumerate(cats)))
bad_csv = c.path("ragged.csv")
with open(bad_csv, "w") as f:
    f.write('path,category\nset/a/0.png,a\n"set/a/1.png,a\n')

MODEL = ["--model", "mnist-lrm"]
acts = c.path("acts.h5")
c.run("--seed", "1", "extract", *MODEL, "--stimuli", digits, "--layers", "classifier.2,classifier.6", "--passes",
      "0,1", "--out", acts)
partial = c.path("partial.h5")
shutil.copy(acts, partial)
with h5py.File(partial, "a") as f:
    f.attrs["complete"] = 0
acts_cut = truncated_copy(acts, "acts_cut.h5", 3000)
constant = c.path("constant_acts.h5")
shutil.copy(acts, constant)
with h5py.File(constant, "a") as f:
    for layer in ("classifier.2", "classifier.6"):
        for p in ("pass0", "pass1"):
            f[f"activations/{layer}/{p}"][...] = 1.0

brain = c.path("brain.h5")
with h5py.File(brain, "w") as f:
    x = rng.standard_normal((N, 8))
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    f["rdm"] = d
    f["nonsquare"] = d[:, :-1]
    f["constant"] = np.ones((N, N)) - np.eye(N)
    f["responses"] = rng.standard_normal((N, 20)).astype(np.float32)
    f["stimulus"] = np.array(ids, dtype=h5py.string_dtype())
brain_cut = truncated_copy(brain, "brain_cut.h5", 1000)
mat = c.path("rdms.mat")
sio.savemat(mat, {"RDMs": np.stack([d, d], axis=2)})
mat_cut = truncated_copy(mat, "rdms_cut.mat", 200)
mat_text = c.path("words.mat")
sio.savemat(mat_text, {"RDMs": np.array(["not", "rdms"])})
nc_cut = c.path("assembly_cut.nc")
with open(nc_cut, "wb") as f:
    f.write(b"\x89HDF\r\n\x1a\n" + bytes(rng.integers(0, 255, 400, dtype=np.uint8)))
nc_classic = c.path("classic.nc")
with open(nc_classic, "wb") as f:
    f.write(b"CDF\x01\x00\x00\x00")

vectors = c.path("vectors.h5")
with h5py.File(vectors, "w") as f:
    f["short"] = rng.standard_normal((1, 7)).astype(np.float32)
    f["nan"] = np.full((1, 10), np.nan, dtype=np.float32)
    f["good"] = rng.standard_normal((1, 10)).astype(np.float32)

ck = c.path("model.pt")
c.run("--threads", "2", "train", *MODEL, "--stimuli", folder, "--epochs", "1", "--batch-size", "9", "--num-classes",
      "10", "--out", ck)
state = {k: v.clone() for k, v in torch.load(ck)["state_dict"].items()}
first = sorted(k for k, v in state.items() if v.is_floating_point() and v.dim() > 1)[0]
state[first].view(-1)[0] = float("nan")
nan_pth = c.path("nan.pth")
torch.save(state, nan_pth)
other_pth = c.path("other.pth")
torch.save({"conv.weight": torch.zeros(4, 3, 3, 3), "fc.bias": torch.zeros(5)}, other_pth)
pth_cut = truncated_copy(ck, "model_cut.pt", 4000)

protos = c.path("protos.h5")
c.run("prototypes", *MODEL, "--stimuli", digits, "--out", protos)
protos_partial = c.path("protos_partial.h5")
shutil.copy(protos, protos_partial)
with h5py.File(protos_partial, "a") as f:
    f.attrs["complete"] = 0

results = c.path("localized.h5")
c.run("localize", "--activations", acts, "--target", "all", "--out", results)
results_cut = truncated_copy(results, "localized_cut.h5", 2048)
results_partial = c.path("localized_partial.h5")
shutil.copy(results, results_partial)
with h5py.File(results_partial, "a") as f:
    f.attrs["complete"] = 0
blocker = c.path("a_file")
open(blocker, "w").close()

toml_bad = c.path("broken.toml")
with open(toml_bad, "w") as f:
    f.write('name = "x"\nrun_dir = "unterminated\n')
toml_unknown = c.path("unknown_stage.toml")
with open(toml_unknown, "w") as f:
    f.write(f'name = "u"\nrun_dir = "{c.path("run_u")}"\n\n[[stage]]\nname = "s"\nargs = ["frobnicate"]\n'
            f'output = "{{run}}/s.h5"\n')
toml_noargs = c.path("no_args.toml")
with open(toml_noargs, "w") as f:
    f.write(f'name = "n"\nrun_dir = "{c.path("run_n")}"\n\n[[stage]]\nname = "s"\noutput = "{{run}}/s.h5"\n')

# The fuzz findings (tests/fuzz/regressions): JPEGs whose Huffman tables would overrun stb_image's
# arrays, a compressed .mat struct claiming billions of fields, a .mat image with no pixels.
REGRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "regressions")
huffman_sets = []
for name in sorted(os.listdir(os.path.join(REGRESSIONS, "image"))):
    if name.endswith(".jpg"):
        data = open(os.path.join(REGRESSIONS, "image", name), "rb").read()
        huffman_sets.append((name, folder_with("huffman_" + name[:-4], name, data)))
struct_mat = os.path.join(REGRESSIONS, "mat", "compressed-struct-huge-dims-case4131.mat")
empty_image_mat = c.path("empty_image.mat")
stimuli_92 = np.zeros((1, 2), dtype=[("image", object), ("category", object)])
stimuli_92[0, 0] = (np.zeros((6, 0, 3), np.uint8), "a")
stimuli_92[0, 1] = (np.zeros((6, 5, 3), np.uint8), "b")
sio.savemat(empty_image_mat, {"stimuli_92objs": stimuli_92})

# --- The table ----------------------------------------------------------------------------------
# stimuli
case("stimuli info: truncated PNG", ["stimuli", "info", png_set], "cut.png")
case("stimuli info: truncated JPEG", ["stimuli", "info", jpg_set], "cut.jpg")
case("stimuli info: malformed CSV", ["stimuli", "info", bad_csv], "ragged.csv")
for name, huffman_set in huffman_sets:
    case(f"stimuli info: JPEG with an oversized Huffman table ({name})", ["stimuli", "info", huffman_set], name)
case("extract: JPEG with an oversized Huffman table", ["extract", *MODEL, "--stimuli", huffman_sets[0][1], "--layers",
                                                       "classifier.6", "--out", out("huffman.h5")],
     huffman_sets[0][0], out("huffman.h5"))
case("compare rsa: compressed .mat struct claiming more fields than it holds",
     ["compare", "rsa", "--brain", struct_mat, "--noise-ceiling", "--out", out("struct_mat.h5")],
     "compressed-struct-huge-dims-case4131.mat", out("struct_mat.h5"))
case("stimuli import kriegeskorte: a .mat image with no pixels",
     ["stimuli", "import", "kriegeskorte", "--mat", empty_image_mat, "--out", out("k92.h5")], "empty_image.mat",
     out("k92.h5"))
case("stimuli info: truncated HDF5 set", ["stimuli", "info", truncated_copy(digits, "digits_cut.h5", 1500)],
     "digits_cut.h5")
short = c.path("short_categories.h5")
with h5py.File(short, "w") as f:
    f["images"] = np.stack(images)
    f["category"] = np.array(cats[:-1], dtype=h5py.string_dtype())
case("stimuli info: /category with fewer rows than /images", ["stimuli", "info", short], "short_categories.h5")
case("stimuli info: unknown stimulus source", ["stimuli", "info", c.path("notes.xyz")], "notes.xyz")
case("stimuli info: absent split", ["stimuli", "info", digits, "--split", "test"], "test")
case("stimuli info: empty --category-map", ["stimuli", "info", folder, "--category-map", "="], "category-map")
case("stimuli import mnist: --out is a folder's file", ["stimuli", "import", "mnist", "--out",
                                                         os.path.join(blocker, "m.h5")], "a_file")

# run
case("run: malformed TOML", ["run", toml_bad], "broken.toml")
case("run: stage with an unknown command", ["run", toml_unknown], "frobnicate")
case("run: stage without args", ["run", toml_noargs], "args")
case("run: missing analysis", ["run", c.path("missing.toml")], "missing.toml")

# localize
case("localize: truncated activations", ["localize", "--activations", acts_cut, "--target", "all", "--out",
                                         out("l1.h5")], "acts_cut.h5", out("l1.h5"))
case("localize: unfinished activations (complete = 0)",
     ["localize", "--activations", partial, "--target", "all", "--out", out("l2.h5")], "partial.h5", out("l2.h5"))
same = copy_of(acts, "same_l.h5")
case("localize: --out is the activations", ["localize", "--activations", same, "--target", "all", "--out", same],
     "--out", same, [same])
case("localize: --q nan", ["localize", "--activations", acts, "--target", "all", "--q", "nan", "--out",
                           out("l3.h5")], "--q", out("l3.h5"))
case("localize: --ratio -1", ["localize", "--activations", acts, "--target", "all", "--ratio", "-1", "--out",
                              out("l4.h5")], "--ratio", out("l4.h5"))
case("localize: a target that is not a category", ["localize", "--activations", acts, "--target", "zebra",
                                                    "--out", out("l5.h5")], "zebra", out("l5.h5"))

# report
case("report: truncated results", ["report", results_cut, "--out", out("r1")], "localized_cut.h5", out("r1"))
case("report: unfinished results (complete = 0)", ["report", results_partial, "--out", out("r2")],
     "localized_partial.h5", out("r2"))
if os.geteuid() == 0:  # root writes into read-only folders; a parent that is a file is as unwritable
    case("report: --out in an unwritable place", ["report", results, "--out", os.path.join(blocker, "r")],
         "a_file", os.path.join(blocker, "r"))
else:
    ro = c.path("readonly")
    os.makedirs(ro)
    os.chmod(ro, 0o555)
    case("report: --out in a read-only folder", ["report", results, "--out", os.path.join(ro, "r")], "readonly",
         os.path.join(ro, "r"))
same = copy_of(results, "same_r.h5")
case("report: --out is the results file", ["report", same, "--out", same], "--out", same, [same])

# compare rsa
rsa = ["compare", "rsa", "--activations", acts, "--layers", "classifier.6"]
case("rsa: non-square RDM", [*rsa, "--brain", brain + ":/nonsquare", "--out", out("c1.h5")], "nonsquare",
     out("c1.h5"))
case("rsa: constant RDM", [*rsa, "--brain", brain + ":/constant", "--out", out("c2.h5")], "constant", out("c2.h5"))
case("rsa: truncated brain HDF5", [*rsa, "--brain", brain_cut + ":/rdm", "--out", out("c3.h5")], "brain_cut.h5",
     out("c3.h5"))
case("rsa: truncated .mat", [*rsa, "--brain", mat_cut, "--out", out("c4.h5")], "rdms_cut.mat", out("c4.h5"))
case("rsa: .mat of the wrong kind", [*rsa, "--brain", mat_text, "--out", out("c5.h5")], "words.mat", out("c5.h5"))
case("rsa: corrupt netCDF", [*rsa, "--brain", nc_cut, "--out", out("c6.h5")], "assembly_cut.nc", out("c6.h5"))
case("rsa: classic (not HDF5) netCDF", [*rsa, "--brain", nc_classic, "--out", out("c7.h5")], "classic.nc",
     out("c7.h5"))
case("rsa: all-constant activations", ["compare", "rsa", "--activations", constant, "--brain", brain + ":/rdm",
                                       "--out", out("c8.h5")], "constant", out("c8.h5"))
case("rsa: unfinished activations", ["compare", "rsa", "--activations", partial, "--brain", brain + ":/rdm",
                                     "--out", out("c9.h5")], "partial.h5", out("c9.h5"))
same = copy_of(brain, "same_b.h5")
case("rsa: --out is the brain file", [*rsa, "--brain", same + ":/rdm", "--out", same], "--out", same, [same])
case("rsa: --bootstrap 100000000", [*rsa, "--brain", brain + ":/rdm", "--bootstrap", "100000000", "--out",
                                    out("c10.h5")], "--bootstrap", out("c10.h5"))

# compare encode
responses = c.path("responses.h5")
c.run("compare", "simulate", "--activations", acts, "--layer", "classifier.6", "--neuroids", "5", "--repetitions",
      "2", "--out", responses)
enc = ["compare", "encode", "--activations", acts, "--brain", responses + ":/responses", "--regression", "ols"]
case("encode: --splits 0", [*enc, "--splits", "0", "--out", out("e1.h5")], "--splits", out("e1.h5"))
case("encode: --pls-components 100000000", [*enc[:-2], "--pls-components", "100000000", "--out", out("e2.h5")],
     "--pls-components", out("e2.h5"))
case("encode: truncated activations", ["compare", "encode", "--activations", acts_cut, "--brain",
                                       responses + ":/responses", "--out", out("e3.h5")], "acts_cut.h5", out("e3.h5"))
same = copy_of(acts, "same_e.h5")
case("encode: --out is the activations", ["compare", "encode", "--activations", same, *enc[4:], "--out", same], "--out",
     same, [same])
case("encode: corrupt netCDF", ["compare", "encode", "--activations", acts, "--brain", nc_cut, "--out",
                                out("e4.h5")], "assembly_cut.nc", out("e4.h5"))

# compare simulate
sim = ["compare", "simulate", "--activations", acts, "--layer", "classifier.6", "--pass", "1"]
case("simulate: --mean-rate 1e300", [*sim, "--mean-rate", "1e300", "--out", out("s1.h5")], "--mean-rate",
     out("s1.h5"))
case("simulate: --gain nan", [*sim, "--gain", "nan", "--out", out("s2.h5")], "--gain", out("s2.h5"))
case("simulate: --neuroids 100000000000", [*sim, "--neuroids", "100000000000", "--out", out("s3.h5")],
     "--neuroids", out("s3.h5"))
case("simulate: --pass -1", [*sim[:-2], "--pass", "-1", "--out", out("s4.h5")], "--pass", out("s4.h5"))
same = copy_of(acts, "same_s.h5")
case("simulate: --out is the activations", [*sim[:3], same, *sim[4:], "--out", same], "--out", same, [same])

# model info
case("model info: --input-size 100000x100000", ["model", "info", "mnist-lrm", "--input-size", "100000x100000"],
     "--input-size")
case("model info: --input-size 0", ["model", "info", "mnist-lrm", "--input-size", "0"], "--input-size")
case("model info: --input-size -5x3", ["model", "info", "mnist-lrm", "--input-size", "-5x3"], "--input-size")
case("model info: truncated checkpoint", ["model", "info", pth_cut], "model_cut.pt")
case("model info: unknown preset", ["model", "info", "resnet9000"], "resnet9000")

# extract
ext = ["extract", *MODEL, "--stimuli", digits, "--layers", "classifier.6"]
case("extract: --passes 99999", [*ext, "--passes", "99999", "--out", out("x1.h5")], "--passes", out("x1.h5"))
case("extract: --std 0", [*ext, "--std", "0", "--out", out("x2.h5")], "--std", out("x2.h5"))
case("extract: --resize -3", [*ext, "--resize", "-3", "--out", out("x3.h5")], "--resize", out("x3.h5"))
case("extract: --steer-mix nan", [*ext, "--passes", "0,1", "--steer-source", "classifier.6", "--steer-vector",
                                  vectors + ":/good", "--steer-mix", "nan", "--out", out("x4.h5")], "--steer-mix",
     out("x4.h5"))
case("extract: --condition x=", [*ext, "--passes", "0,1", "--steer-source", "classifier.6", "--condition", "x=",
                                 "--out", out("x5.h5")], "--condition", out("x5.h5"))
case("extract: steering vector of the wrong length",
     [*ext, "--passes", "0,1", "--steer-source", "classifier.6", "--steer-vector", vectors + ":/short", "--out",
      out("x6.h5")], "short", out("x6.h5"))
case("extract: NaN weights", [*ext, "--weights", nan_pth, "--out", out("x7.h5")], first, out("x7.h5"))
case("extract: checkpoint of another architecture", [*ext, "--weights", other_pth, "--out", out("x8.h5")],
     "other.pth", out("x8.h5"))
case("extract: truncated checkpoint", [*ext, "--weights", pth_cut, "--out", out("x9.h5")], "model_cut.pt",
     out("x9.h5"))
case("extract: truncated PNG", ["extract", *MODEL, "--stimuli", png_set, "--layers", "classifier.6", "--out",
                                out("x10.h5")], "cut.png", out("x10.h5"))
case("extract: truncated JPEG", ["extract", *MODEL, "--stimuli", jpg_set, "--layers", "classifier.6", "--out",
                                 out("x11.h5")], "cut.jpg", out("x11.h5"))
case("extract: unknown stimulus source", ["extract", *MODEL, "--stimuli", c.path("notes.xyz"), "--layers",
                                          "classifier.6", "--out", out("x12.h5")], "notes.xyz", out("x12.h5"))
same = copy_of(digits, "same_x.h5")
case("extract: --out is the stimuli", [*ext[:3], "--stimuli", same, *ext[5:], "--out", same], "--out", same, [same])
case("extract: --batch-size 0", [*ext, "--batch-size", "0", "--out", out("x13.h5")], "--batch-size", out("x13.h5"))
case("extract: NaN steering vector", [*ext, "--passes", "0,1", "--steer-source", "classifier.6", "--steer-vector",
                                      vectors + ":/nan", "--out", out("x15.h5")], "nan", out("x15.h5"))
case("extract: malformed CSV manifest", ["extract", *MODEL, "--stimuli", bad_csv, "--layers", "classifier.6",
                                         "--out", out("x14.h5")], "ragged.csv", out("x14.h5"))

# train
tr = ["train", *MODEL, "--stimuli", folder, "--epochs", "1", "--batch-size", "9"]
case("train: --lr 1e30 (non-finite loss)", [*tr, "--lr", "1e30", "--warmup", "0", "--out", out("t1.pt")],
     "epoch 1", out("t1.pt"))
case("train: --lr nan", [*tr, "--lr", "nan", "--out", out("t2.pt")], "--lr", out("t2.pt"))
case("train: --epochs -1", [*tr[:-4], "--epochs", "-1", "--out", out("t3.pt")], "--epochs", out("t3.pt"))
case("train: --warmup 2", [*tr, "--warmup", "2", "--out", out("t4.pt")], "--warmup", out("t4.pt"))
same = copy_of(manifest, "same_t.csv")
case("train: --out is the stimuli manifest", [*tr[:4], same, *tr[5:], "--out", same], "--out", same, [same])

# evaluate
ev = ["evaluate", "--stimuli", folder]
case("evaluate: NaN weights", [*ev, *MODEL, "--weights", nan_pth, "--out", out("v1.h5")], first, out("v1.h5"))
case("evaluate: truncated checkpoint", [*ev, "--weights", pth_cut, "--out", out("v2.h5")], "model_cut.pt",
     out("v2.h5"))
case("evaluate: --num-passes 0", [*ev, "--weights", ck, "--num-passes", "0", "--out", out("v3.h5")],
     "--num-passes", out("v3.h5"))
same = copy_of(ck, "same_v.pt")
case("evaluate: --out is the checkpoint", [*ev, "--weights", same, "--out", same], "--out", same, [same])

# robustness
rb = ["robustness", "--stimuli", folder, "--weights", ck]
case("robustness: --epsilons nan", [*rb, "--epsilons", "nan", "--out", out("b1.h5")], "--epsilons", out("b1.h5"))
case("robustness: --epsilons -0.1", [*rb, "--epsilons", "-0.1", "--out", out("b2.h5")], "--epsilons",
     out("b2.h5"))
case("robustness: --attack-pass 99999", [*rb, "--attack-pass", "99999", "--out", out("b3.h5")], "--attack-pass",
     out("b3.h5"))
case("robustness: checkpoint of another architecture", ["robustness", "--stimuli", folder, *MODEL, "--weights",
                                                        other_pth, "--out", out("b4.h5")], "other.pth",
     out("b4.h5"))

# prototypes
pr = ["prototypes", *MODEL, "--stimuli", digits]
case("prototypes: --pass -1", [*pr, "--pass", "-1", "--out", out("p1.h5")], "--pass", out("p1.h5"))
case("prototypes: --pass 99999", [*pr, "--pass", "99999", "--out", out("p2.h5")], "--pass", out("p2.h5"))
same = copy_of(digits, "same_p.h5")
case("prototypes: --out is the stimuli", [*pr[:3], "--stimuli", same, "--out", same], "--out", same, [same])
case("prototypes: --mean nan", [*pr, "--mean", "nan", "--out", out("p3.h5")], "--mean", out("p3.h5"))

# steer
st = ["steer", *MODEL, "--stimuli", digits, "--resamples", "10"]
case("steer: --composites 100000000", [*st, "--composites", "100000000", "--out", out("st1.h5")], "--composites",
     out("st1.h5"))
case("steer: --level 1.5", [*st, "--composites", "4", "--level", "1.5", "--out", out("st2.h5")], "--level",
     out("st2.h5"))
case("steer: --steer-strength nan", [*st, "--composites", "4", "--steer-strength", "nan", "--out", out("st3.h5")],
     "--steer-strength", out("st3.h5"))
case("steer: unfinished prototypes", [*st, "--composites", "4", "--prototypes", protos_partial, "--out",
                                      out("st4.h5")], "protos_partial.h5", out("st4.h5"))
case("steer: vectors of the wrong length", [*st, "--composites", "4", "--types", "file", "--vectors",
                                            vectors + ":/short", "--out", out("st5.h5")], "short", out("st5.h5"))
same = copy_of(protos, "same_st.h5")
case("steer: --out is the prototypes", [*st, "--composites", "4", "--prototypes", same, "--out", same], "--out",
     same, [same])
case("steer: --num-passes 99999", [*st, "--composites", "4", "--num-passes", "99999", "--out", out("st6.h5")],
     "--num-passes", out("st6.h5"))

# attend
at = ["attend", *MODEL, "--stimuli", digits, "--layer", "classifier.2", "--resamples", "10", "--reuse-images",
      "--localizer-images", "6", "--composites", "6"]
case("attend: the same category twice", [*at, "--attend", "a,a", "--out", out("a1.h5")], "--attend", out("a1.h5"))
case("attend: a category not in the set", [*at, "--attend", "a,z", "--out", out("a2.h5")], "z", out("a2.h5"))
case("attend: --q 0", [*at, "--attend", "a,b", "--q", "0", "--out", out("a3.h5")], "--q", out("a3.h5"))
case("attend: --num-passes 99999", [*at, "--attend", "a,b", "--num-passes", "99999", "--out", out("a4.h5")],
     "--num-passes", out("a4.h5"))
same = copy_of(digits, "same_a.h5")
case("attend: --out is the stimuli", [*at[:3], "--stimuli", same, *at[5:], "--attend", "a,b", "--out", same], "--out",
     same, [same])

# --skip-bad skips a truncated PNG and lists it (not a bad input: it succeeds).
p = c.run("stimuli", "info", png_set, "--skip-bad", check=False, quiet=False)
c.check("--skip-bad skips a truncated PNG and names it", p.returncode == 0 and "cut.png" in p.stdout + p.stderr,
        f"status {p.returncode}: {p.stderr.strip()[:300]!r}")
p = c.run("extract", *MODEL, "--stimuli", png_set, "--skip-bad", "--layers", "classifier.6", "--out",
          out("skip.h5"), check=False, quiet=False)
c.check("extract --skip-bad skips a truncated PNG and names it",
        p.returncode == 0 and "cut.png" in p.stdout + p.stderr, f"status {p.returncode}: {p.stderr.strip()[:300]!r}")
c.finish()
