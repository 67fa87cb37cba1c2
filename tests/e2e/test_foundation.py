"""Foundation end to end: the CLI, MNIST import, stimulus sets, lrm run, and the HDF5 files
opened with h5py and xarray (interop), plus the bad-input errors."""
import os
import shutil
import subprocess

import h5py
import numpy as np
import xarray as xr
from PIL import Image

from lrm_e2e import Checks

c = Checks("foundation")

# CLI basics.
p = c.run("--version")
c.check("--version prints a version", p.stdout.strip() != "")
for sub in ["stimuli", "run"]:
    p = c.run(sub, "--help")
    c.check(f"{sub} --help explains itself", "Usage" in p.stdout or "usage" in p.stdout.lower())
c.bad_input("unknown subcommand", ["frobnicate"], "frobnicate")
# `lrm` runs the statistics commands without LibTorch and hands model commands to lrm-torch.
p = subprocess.run(["ldd", c.lrm], capture_output=True, text=True)
c.check("lrm itself does not link LibTorch", p.returncode == 0 and "libtorch" not in p.stdout)
p = c.run("--help")
c.check("lrm --help lists the model commands too", all(f"  {m} " in p.stdout for m in ("extract", "steer", "train")),
        p.stdout[-400:])
p = c.run("model", "info", "mnist-lrm")
c.check("a model command runs through lrm", p.returncode == 0 and "classifier.6" in p.stdout, p.stderr[-300:])
c.bad_input("unknown option", ["stimuli", "info", "x", "--no-such-option"], "--no-such-option")

# MNIST import: 10,000 digits, seeded stratified 8,000/2,000 split, readable by h5py and xarray.
mnist = c.path("mnist.h5")
c.run("--seed", "3", "stimuli", "import", "mnist", "--out", mnist)
with h5py.File(mnist, "r") as f:
    c.check("images are uint8 10000×28×28", f["images"].shape == (10000, 28, 28) and f["images"].dtype == np.uint8)
    split = f["split"].asstr()[:]
    labels = f["label"][:]
    c.check("split is 8000 train / 2000 test", (split == "test").sum() == 2000 and (split == "train").sum() == 8000)
    per_class = [((labels == d) & (split == "test")).sum() / (labels == d).sum() for d in range(10)]
    c.check("split is stratified (20% ± 0.1% per digit)", max(abs(x - 0.2) for x in per_class) < 0.001, per_class)
    c.check("complete = 1 and provenance at the root",
            f.attrs["complete"] == 1 and "command_line" in f.attrs and f.attrs["seed"] == 3
            and "git_commit" in f.attrs and "host" in f.attrs and "start_time" in f.attrs)
    c.check("ids are strings", f["stimulus"].asstr()[0].startswith("mnist-0-"))
    c.check("pixel values are the package's (a stroke reaches 255)", f["images"][:100].max() == 255)
ds = xr.open_dataset(mnist, engine="h5netcdf")
c.check("xarray sees images with named dims", ds["images"].dims == ("stimulus", "y", "x"))
c.check("xarray sees category, label, split as coordinates",
        all(k in ds["images"].coords for k in ["category", "label", "split"]))
c.check("xarray values equal h5py's", int(ds["images"][5].sum()) == int(h5py.File(mnist)["images"][5].sum()))
mnist2 = c.path("mnist2.h5")
c.run("--seed", "3", "stimuli", "import", "mnist", "--out", mnist2)
c.check("same seed, same split", (h5py.File(mnist2)["split"][:] == h5py.File(mnist)["split"][:]).all())
c.run("--seed", "4", "stimuli", "import", "mnist", "--out", mnist2)
c.check("another seed, another split", not (h5py.File(mnist2)["split"][:] == h5py.File(mnist)["split"][:]).all())

p = c.run("stimuli", "info", mnist)
c.check("stimuli info counts per category", "10000" in p.stdout and "28×28" in p.stdout)
p = c.run("stimuli", "info", mnist, "--split", "test")
c.check("stimuli info on the test split", "2000" in p.stdout)

# fLoc folder layout with the subcategory map.
floc = c.path("floc")
rng = np.random.default_rng(0)
for sub, n in [("adult", 2), ("child", 3), ("house", 2), ("corridor", 1)]:
    os.makedirs(os.path.join(floc, sub))
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (40, 30), dtype=np.uint8)).save(os.path.join(floc, sub, f"{sub}-{i}.png"))
p = c.run("stimuli", "info", floc, "--category-map", "floc")
c.check("fLoc folders map to domains", "faces" in p.stdout and "places" in p.stdout and " 5" in p.stdout)

# The small sets committed in the repository's stimuli/ folder read as its README says.
repo_stimuli = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "stimuli")
for committed in ["shapes", "shapes.csv"]:
    p = c.run("stimuli", "info", os.path.join(repo_stimuli, committed))
    c.check(f"committed set stimuli/{committed} reads: 12 images in 3 categories",
            "12 in 3 categories" in p.stdout and "1×32×32" in p.stdout, p.stdout)

# CSV manifest with an extra column.
manifest = c.path("manifest.csv")
with open(manifest, "w") as f:
    f.write("path,category,id,size\nfloc/adult/adult-0.png,faces,a0,big\nfloc/house/house-0.png,places,h0,small\n")
p = c.run("stimuli", "info", manifest)
c.check("manifest reads", "faces" in p.stdout and "places" in p.stdout)

# Bad input, each with a clear one-line error naming the input.
c.bad_input("missing folder", ["stimuli", "info", c.path("nope")], "nope")
os.makedirs(c.path("empty"))
c.bad_input("empty folder", ["stimuli", "info", c.path("empty")], "empty")
os.makedirs(c.path("nocat", "faces"))
c.bad_input("category with no images", ["stimuli", "info", c.path("nocat")], "faces")
bad = c.path("bad")
shutil.copytree(os.path.join(floc, "adult"), os.path.join(bad, "adult"))
with open(os.path.join(bad, "adult", "broken.jpg"), "wb") as f:
    f.write(b"\xff\xd8 this is not a jpeg")
c.bad_input("corrupt image", ["stimuli", "info", bad], "broken.jpg")
p = c.run("stimuli", "info", bad, "--skip-bad")
c.check("--skip-bad skips and lists corrupt files", p.returncode == 0 and "skipped" in p.stdout and "broken.jpg" in p.stdout)
with open(os.path.join(bad, "adult", "notes.txt"), "w") as f:
    f.write("hello")
c.bad_input("non-image file", ["stimuli", "info", bad, "--skip-bad", "--no-such"], "--no-such")
c.bad_input("non-image file named", ["stimuli", "info", bad], "notes.txt")
with open(c.path("nocols.csv"), "w") as f:
    f.write("file,label\na.png,x\n")
c.bad_input("manifest missing columns", ["stimuli", "info", c.path("nocols.csv")], "nocols.csv")
with open(c.path("dups.csv"), "w") as f:
    f.write("path,category,id\nfloc/adult/adult-0.png,faces,x\nfloc/adult/adult-1.png,faces,x\n")
c.bad_input("manifest duplicate ids", ["stimuli", "info", c.path("dups.csv")], "'x'")
c.bad_input("HDF5 path that does not exist", ["stimuli", "info", mnist + ":/no/such"], "/no/such")
c.bad_input("HDF5 file that does not exist", ["stimuli", "info", c.path("missing.h5")], "missing.h5")
with open(c.path("truncated.h5"), "wb") as f:
    f.write(open(mnist, "rb").read()[:5000])
c.bad_input("truncated HDF5 file", ["stimuli", "info", c.path("truncated.h5")], "truncated.h5")

# lrm run: stages in order into one run folder; complete stages are skipped on re-run.
analysis = c.path("tiny.toml")
with open(analysis, "w") as f:
    f.write(f'name = "tiny"\nrun_dir = "{c.path("run")}"\n\n[[stage]]\nname = "digits"\n'
            f'args = ["stimuli", "import", "mnist", "--out", "{{run}}/digits.h5"]\noutput = "{{run}}/digits.h5"\n'
            f'\n[[stage]]\nname = "acts"\nargs = ["extract", "--model", "mnist-lrm", "--stimuli", "{floc}", '
            f'"--layers", "classifier.6", "--passes", "0", "--out", "{{run}}/acts.h5"]\noutput = "{{run}}/acts.h5"\n')
p = c.run("run", analysis)
results = c.path("run", "results.h5")
c.check("lrm run writes the stage output and the results file",
        os.path.exists(c.path("run", "digits.h5")) and os.path.exists(results))
with h5py.File(results, "r") as f:
    c.check("results file merges the stage's groups and its config", "images" in f and "tiny" in f.attrs["config"])
    c.check("results file records the stage's provenance", "provenance/digits" in f)
    with h5py.File(c.path("run", "acts.h5"), "r") as a:
        c.check("a model stage's provenance keeps where and in which precision it ran",
                f["provenance/acts"].attrs.get("compute") == a.attrs["compute"], dict(f["provenance/acts"].attrs))
        stage, own = f["provenance/acts"].attrs, a.attrs
        c.check("a stage's provenance keeps each attribute's type and value (seed an integer)",
                all(type(stage[k]) is type(own[k]) and stage[k] == own[k]
                    for k in ("seed", "command_line", "lrm_version", "compute")),
                {k: (stage.get(k), own.get(k)) for k in ("seed", "command_line")})
with h5py.File(c.path("run", "digits.h5"), "r") as f:
    c.check("stage file carries the analysis config", 'name = "tiny"' in f.attrs["config"])
p = c.run("run", analysis, quiet=False)
c.check("re-run skips complete stages", "complete, skipped" in p.stdout)
with open(c.path("broken.toml"), "w") as f:
    f.write("name = \n")
c.bad_input("malformed analysis", ["run", c.path("broken.toml")], "broken.toml")

# An analysis that runs `lrm run` on itself, or on one that runs it back, is refused before any
# stage starts (it once spawned about 3,400 processes); the timeout keeps a regression bounded.
def nested_analysis(name, target):
    path = c.path(f"{name}.toml")
    with open(path, "w") as f:
        f.write(f'name = "{name}"\nrun_dir = "{c.path("run_" + name)}"\n\n[[stage]]\nname = "again"\n'
                f'args = ["run", "{target}"]\noutput = "{{run}}/out.h5"\n')
    return path


def refused_run(label, analysis, must_name, env=None):
    try:
        p = c.run("run", analysis, check=False, timeout=30, env=env)
    except subprocess.TimeoutExpired:
        c.check(f"lrm run refuses {label}", False, "(still running after 30 s)")
        return
    lines = [l for l in p.stderr.strip().splitlines() if l]
    c.check(f"lrm run refuses {label}",
            p.returncode == 2 and len(lines) == 1 and all(s in p.stderr for s in must_name),
            f"(status {p.returncode}, stderr {p.stderr.strip()!r})")


loop = nested_analysis("loop", c.path("loop.toml"))
refused_run("a stage that runs its own analysis", loop, [loop, "stage 'again'", "already running"])
c.check("nothing of the refused analysis ran", not os.path.exists(c.path("run_loop")))
ping, pong = c.path("ping.toml"), c.path("pong.toml")
nested_analysis("ping", pong)
nested_analysis("pong", ping)
refused_run("a cycle of two analyses", ping, [pong, "stage 'again'", f"{ping} -> {pong} -> {ping}"])
leaf = nested_analysis("leaf", c.path("nowhere.toml"))
env = dict(os.environ, LRM_RUN_STACK=leaf)
refused_run("an analysis already running in an enclosing run", leaf, [leaf, "enclosing"], env)
env = dict(os.environ, LRM_RUN_STACK="\n".join(f"/x/level{i}.toml" for i in range(8)))
refused_run("runs nested more than 8 deep", leaf, [leaf, "nested runs"], env)

c.finish()
