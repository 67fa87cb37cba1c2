"""Report end to end: every figure script on small results files in the suite's layouts (written
here with h5py, and by the suite's own commands where they exist), `lrm report` on a complete
and on a partial file (only those figures, the others named as skipped), atomic output, bad input.
Every figure's content is checked: the data it plots (its .json, read back from the figure)
against the results file read with xarray (report_figures)."""
import glob
import json
import os
import subprocess

import h5py
import numpy as np
import xarray as xr

from lrm_e2e import Checks
import report_figures as F
import report_layouts as L

c = Checks("report")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REPORTS = os.path.join(ROOT, "reports")
PY = "/usr/bin/python3"
# The figure kinds, from their one list (reports/figure_kinds.toml) as make_report.py prints it.
SCRIPTS = subprocess.run([PY, os.path.join(REPORTS, "make_report.py"), "--list-kinds"],
                         capture_output=True, text=True, check=True).stdout.split()


def nonempty_figure(stem):
    """PDF, SVG, PNG and JSON exist, are non-empty and are what they say they are."""
    try:
        pdf = open(stem + ".pdf", "rb").read(5)
        svg = open(stem + ".svg", "rb").read()
        png = open(stem + ".png", "rb").read(8)
        data = json.load(open(stem + ".json", encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return pdf == b"%PDF-" and b"<svg" in svg[:2000] and png == b"\x89PNG\r\n\x1a\n" and \
        os.path.getsize(stem + ".png") > 2000 and bool(data["axes"])


def shows_the_file(label, folder, results):
    """Every figure in `folder` plots the values of `results` (report_figures)."""
    problems = F.check_report(folder, results)
    c.check(f"{label}: each figure plots the file's values", not problems, problems)


def figures_in(folder):
    return sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(folder, "*.pdf")))


# A complete results file: every analysis, two steering runs merged under prefix groups as
# `lrm run` does, and per-stage provenance.
full = c.path("full.h5")
with h5py.File(full, "w") as f:
    L.provenance(f, "lrm run analyses/test.toml")
    L.write_evaluation(f)
    L.write_robustness(f)
    L.write_localizer(f)
    L.write_attention(f)
    L.write_rsa(f)
    L.write_encoding(f)
    L.write_encoding(f.require_group("fmri"), brain="betas.nii.gz", voxels=(5, 4, 3))
    for model, additive in [("multiplicative", False), ("additive", True)]:
        for composite in ["overlay", "side-by-side"]:
            L.write_steering(f.require_group(f"{model}-{composite}"), composite=composite,
                             additive=additive)
    f.require_group("provenance/evaluate").attrs.update(command_line="lrm evaluate --weights m.pt",
                                                        seed=1)

c.check("the figure kinds are listed once, in reports/figure_kinds.toml",
        len(SCRIPTS) == 12 and all(os.path.exists(os.path.join(REPORTS, k + ".py"))
                                   for k in SCRIPTS), SCRIPTS)
p = c.run("report", "--help")
c.check("lrm report --help names every figure kind", all(k in p.stdout for k in SCRIPTS),
        p.stdout[-600:])

# Each script alone.
for kind in SCRIPTS:
    out = c.path("alone", kind)
    p = subprocess.run([PY, os.path.join(REPORTS, kind + ".py"), full, "--out", out],
                       capture_output=True, text=True)
    stems = figures_in(out)
    c.check(f"reports/{kind}.py alone makes PDF, SVG and PNG",
            p.returncode == 0 and stems and all(nonempty_figure(os.path.join(out, s)) for s in stems),
            f"(status {p.returncode}, files {stems}, stderr {p.stderr[-600:]!r})")
    shows_the_file(f"reports/{kind}.py alone", out, full)
p = subprocess.run([PY, os.path.join(REPORTS, "tmap.py"), full, "--out", c.path("tmap2"),
                    "--layer", "conv2", "--target", "2", "--channel", "3"], capture_output=True,
                   text=True)
c.check("tmap.py takes a chosen layer, target and channel",
        p.returncode == 0 and figures_in(c.path("tmap2")) == ["tmap-conv2-2-ch3"], p.stderr[-400:])
p = subprocess.run([PY, os.path.join(REPORTS, "attention.py"), c.path("none.h5"), "--out",
                    c.path("x")], capture_output=True, text=True)
c.check("a script on a missing file: status 2 and the file named",
        p.returncode == 2 and "none.h5" in p.stderr)

# lrm report on the complete file.
report = c.path("report")
p = c.run("report", full, "--out", report)
stems = figures_in(report)
index = open(os.path.join(report, "index.html"), encoding="utf-8").read() \
    if os.path.exists(os.path.join(report, "index.html")) else ""
c.check("lrm report makes every figure kind", all(any(s.startswith(k) for s in stems)
                                                  for k in SCRIPTS), stems)
c.check("every figure is PDF + SVG + PNG + JSON, non-empty",
        stems and all(nonempty_figure(os.path.join(report, s)) for s in stems))
shows_the_file("lrm report", report, full)
c.check("one composite figure per model (prefix groups merged by lrm run)",
        {"composite-multiplicative", "composite-additive"} <= set(stems), stems)
c.check("index.html shows every figure", index and all(f'src="{s}.png"' in index for s in stems))
c.check("index.html has the provenance (command line, seed, git commit, host, stages)",
        all(x in index for x in ["lrm run analyses/test.toml", "abc123", "testhost",
                                 "lrm evaluate --weights m.pt", "Analysis configuration"]))
c.check("index.html has the key tables (Table 1, Table 4, 2×2, accuracy)",
        all(x in index for x in ["Table 1", "Table 4", "Attention modulation", "Accuracy by pass"]))
c.check("lrm report says what it made", "made:" in p.stdout and "index.html" in p.stdout)
c.check("no .partial folder is left", not os.path.exists(report + ".partial"))

# A partial file: only the evaluation and the localizer.
part = c.path("partial.h5")
with h5py.File(part, "w") as f:
    L.provenance(f)
    L.write_evaluation(f.require_group("mnist"))
    L.write_localizer(f.require_group("mnist"))
p = c.run("report", part, "--out", report)  # replaces the earlier report
stems = figures_in(report)
kinds = {s.split("-")[0] for s in stems}
c.check("a partial file makes only its figures", kinds == {"accuracy", "localizer", "tmap"}, stems)
skipped = [l.split()[1] for l in p.stdout.splitlines() if l.startswith("skipped:")]
c.check("... and names the skipped ones",
        sorted(skipped) == sorted(set(SCRIPTS) - {"accuracy", "localizer", "tmap"}), p.stdout)
shows_the_file("lrm report on a partial file", report, part)
index = open(os.path.join(report, "index.html"), encoding="utf-8").read()
c.check("index.html lists the skipped kinds", "Skipped" in index and "robustness" in index)
p = c.run("report", part, "--out", c.path("only"), "--only", "localizer")
c.check("--only makes just those kinds", figures_in(c.path("only")) == ["localizer-mnist"],
        figures_in(c.path("only")))

# Bad input.
c.bad_input("missing results file", ["report", c.path("missing.h5"), "--out", c.path("r")],
            "missing.h5")
notes = c.path("notes.txt")
open(notes, "w").write("not hdf5")
c.bad_input("results file that is not HDF5", ["report", notes, "--out", c.path("r")], "notes.txt")
c.bad_input("unknown figure kind", ["report", full, "--out", c.path("r"), "--only", "pie"], "pie")
c.check("nothing written for bad input", not os.path.exists(c.path("r")))

# Rates are converted by their units attribute, never guessed: a rate without one is a failure
# that names the array; values in % are plotted as they are.
old = c.path("no_units.h5")
with h5py.File(old, "w") as f:
    L.provenance(f)
    L.write_evaluation(f)
    del f["evaluation/top1"].attrs["units"]
p = c.run("report", old, "--out", c.path("no_units"), check=False)
c.check("a rate without units: the figure fails and names the array",
        p.returncode != 0 and "/evaluation/top1 has no units attribute" in p.stderr, p.stderr[-400:])
pct = c.path("percent.h5")
with h5py.File(pct, "w") as f:
    L.provenance(f)
    L.write_evaluation(f)
    for name in ("top1", "top5"):
        ds = f["evaluation/" + name]
        ds[...] = 100 * ds[()]
        ds.attrs["units"] = "%"
p = c.run("report", pct, "--out", c.path("percent"), check=False)
c.check("rates in %: plotted as they are", p.returncode == 0 and
        not F.check_report(c.path("percent"), pct), F.check_report(c.path("percent"), pct))


# Results written by the suite's own commands, where they exist in this build.
def has_command(*words):
    return c.run(*words, "--help", check=False).returncode == 0


if has_command("localize"):
    # Activations in the documented layout: 3 categories × 6 images, a 4×3×3 map, passes 0 and 1.
    acts = c.path("acts.h5")
    rng = np.random.default_rng(0)
    cats = np.repeat(["a", "b", "c"], 6)
    with h5py.File(acts, "w") as f:
        L.provenance(f)
        g = f.require_group("activations/conv")
        L.coordinate(g, "stimulus", np.array([f"s{i}" for i in range(18)], dtype=object))
        L.array(g, "category", np.array(cats, dtype=object), ["stimulus"])
        ch, y, x = np.unravel_index(np.arange(36), (4, 3, 3))
        L.coordinate(g, "unit", np.arange(36))
        for name, v in [("channel", ch), ("y", y), ("x", x)]:
            L.array(g, name, v.astype("i8"), ["unit"])
        for k in range(2):
            a = rng.normal(size=(18, 36)).astype("f4")
            a[cats == "a", ::3] += 3
            L.array(g, f"pass{k}", a, ["stimulus", "unit"], coordinates="category")
        g.attrs["layer"], g.attrs["unit_shape"] = "conv", "4,3,3"
    loc = c.path("loc.h5")
    p = c.run("localize", "--activations", acts, "--target", "all", "--out", loc, check=False)
    if p.returncode == 0:
        p = c.run("report", loc, "--out", c.path("loc_report"), check=False)
        stems = figures_in(c.path("loc_report"))
        c.check("lrm report on lrm localize output: localizer and t-map figures",
                p.returncode == 0 and {s.split("-")[0] for s in stems} == {"localizer", "tmap"},
                f"{stems} {p.stderr[-400:]!r}")
        shows_the_file("lrm report on lrm localize output", c.path("loc_report"), loc)
    else:
        print(f"note: lrm localize did not run on the test activations: {p.stderr.strip()[:300]}")
else:
    print("note: this build has no lrm localize; report checked on h5py-written files only")

if has_command("steer") or has_command("attend"):
    # A random-weight MNIST LRM (mnist-lrm preset) steered on MNIST composites, as the demo does.
    mnist = c.path("mnist.h5")
    made = c.run("stimuli", "import", "mnist", "--out", mnist, check=False).returncode == 0
    suite = c.path("suite")
    os.makedirs(suite, exist_ok=True)
    runs = []
    if made and has_command("steer"):
        for composite in ["overlay", "side-by-side"]:
            out = os.path.join(suite, f"steer-{composite}.h5")
            p = c.run("--seed", "1", "steer", "--model", "mnist-lrm", "--stimuli", mnist, "--split",
                      "test", "--composite", composite, "--composites", "40", "--alphas", "1,3",
                      "--resamples", "200", "--out", out, check=False)
            runs.append((f"steer {composite}", out, p, {"composite", "target_outputs", "gain_sweep"}))
    if made and has_command("attend"):
        out = os.path.join(suite, "attend.h5")
        p = c.run("--seed", "1", "attend", "--model", "mnist-lrm", "--stimuli", mnist, "--split",
                  "test", "--attend", "3,7", "--layer", "features.9", "--composites", "30",
                  "--resamples", "200", "--out", out, check=False)
        runs.append(("attend", out, p, {"attention"}))
    for label, out, p, kinds in runs:
        if p.returncode != 0:
            print(f"note: lrm {label} did not run here: {p.stderr.strip()[:300]}")
            continue
        folder = c.path("suite_report", os.path.basename(out)[:-3])
        q = c.run("report", out, "--out", folder, check=False)
        stems = figures_in(folder)
        c.check(f"lrm report on lrm {label} output makes {', '.join(sorted(kinds))}",
                q.returncode == 0 and {s.split("-")[0] for s in stems} == kinds
                and all(nonempty_figure(os.path.join(folder, s)) for s in stems),
                f"{stems} {q.stdout[-300:]!r} {q.stderr[-600:]!r}")
        shows_the_file(f"lrm report on lrm {label} output", folder, out)


# lrm run with cheap stages (localizer, RSA, simulated encoding) merged under prefix groups, then
# the final report on the merged file, as the demo does.
def write_k92_activations(path):
    """Activations for the 92 Kriegeskorte ids: 4 categories × 23, a 4×3×3 map, passes 0 and 1."""
    rng = np.random.default_rng(1)
    cats = np.repeat(["a", "b", "c", "d"], 23)
    with h5py.File(path, "w") as f:
        L.provenance(f)
        g = f.require_group("activations/conv")
        L.coordinate(g, "stimulus", np.array([f"kriegeskorte92-{i:03d}" for i in range(1, 93)],
                                             dtype=object))
        L.array(g, "category", np.array(cats, dtype=object), ["stimulus"])
        ch, y, x = np.unravel_index(np.arange(36), (4, 3, 3))
        L.coordinate(g, "unit", np.arange(36))
        for name, v in [("channel", ch), ("y", y), ("x", x)]:
            L.array(g, name, v.astype("i8"), ["unit"])
        latent = rng.normal(size=(92, 6))
        for k in range(2):
            a = np.maximum(latent @ rng.normal(size=(6, 36)) + rng.normal(size=(92, 36)), 0)
            a[cats == "a", ::3] += 3
            L.array(g, f"pass{k}", a.astype("f4"), ["stimulus", "unit"], coordinates="category")
        g.attrs["layer"], g.attrs["unit_shape"] = "conv", "4,3,3"


def stage(name, args, out, merge_into=None, merge=True):
    text = f'[[stage]]\nname = "{name}"\nargs = {json.dumps(args)}\noutput = "{{run}}/{out}"\n'
    if merge_into:
        text += f'merge_into = "{merge_into}"\n'
    return text + ("" if merge else "merge = false\n")


def scale_problems(path):
    """Datasets whose dimension scales do not resolve to a scale in the same top-level group, or
    that carry more than one scale on a dimension (a duplicated merge)."""
    problems = []

    def visit(name, obj):
        if not isinstance(obj, h5py.Dataset) or "DIMENSION_LIST" not in obj.attrs:
            return
        for i, dim in enumerate(obj.dims):
            try:
                scales = [s.name for s in dim.values()]
            except (RuntimeError, KeyError, ValueError) as e:
                problems.append(f"{name} dim {i}: {e}")
                continue
            if len(scales) != 1 or scales[0].split("/")[1] != name.split("/")[0]:
                problems.append(f"{name} dim {i}: {scales}")

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return problems


acts92 = c.path("acts92.h5")
write_k92_activations(acts92)
run_dir = c.path("merged_run")
k2008 = os.path.join(ROOT, "neural_data", "kriegeskorte2008")
analysis = c.path("merged.toml")
with open(analysis, "w") as f:
    f.write(f'name = "merged"\nrun_dir = "{run_dir}"\nreport = "report"\n\n')
    f.write(stage("localize", ["localize", "--activations", acts92, "--target", "all", "--out",
                               "{run}/localizer.h5"], "localizer.h5", "/mnist-lrm"))
    f.write(stage("rsa", ["compare", "rsa", "--activations", acts92, "--brain",
                          f"{k2008}/92_brainRDMs.mat", "--noise-ceiling", "--bootstrap", "50",
                          "--save-rdms", "--out", "{run}/rsa.h5"], "rsa.h5", "/human-it"))
    f.write(stage("simulate", ["compare", "simulate", "--activations", acts92, "--layer", "conv",
                               "--pass", "1", "--neuroids", "20", "--repetitions", "4", "--out",
                               "{run}/simulated.h5"], "simulated.h5", merge=False))
    f.write(stage("encode", ["compare", "encode", "--activations", acts92, "--brain",
                             "{run}/simulated.h5:/responses", "--pls-components", "5", "--splits",
                             "3", "--out", "{run}/encode.h5"], "encode.h5", "/simulated"))
p = c.run("run", analysis, check=False)
results = os.path.join(run_dir, "results.h5")
index_path = os.path.join(run_dir, "report", "index.html")
c.check("lrm run with report = \"report\" exits 0", p.returncode == 0, p.stderr[-600:])
c.check("... and prints the path of index.html", f"report: {index_path}" in p.stdout, p.stdout)
if os.path.exists(results):
    c.check("every merged dataset keeps its dimension scales", not scale_problems(results),
            scale_problems(results)[:5])
    with h5py.File(results, "r") as f:
        c.check("merged groups under their prefixes, with per-stage provenance",
                {"mnist-lrm", "human-it", "simulated", "provenance"} <= set(f)
                and set(f["provenance"]) == {"localize", "rsa", "encode"}, list(f))
        mean_t = f["mnist-lrm/localizer/conv/pass1/a/mean_t"]
        # The unit scale is shared by the pass and its targets (hard links): any of its names.
        scale = mean_t.dims[0][0].name
        c.check("h5py resolves a merged array's scale to the merged copy",
                scale.startswith("/mnist-lrm/localizer/conv/pass1/") and scale.endswith("/unit"),
                scale)
        with h5py.File(os.path.join(run_dir, "localizer.h5"), "r") as s:
            c.check("merged values equal the stage file's",
                    np.array_equal(mean_t[()], s["localizer/conv/pass1/a/mean_t"][()]))
    try:
        loc = xr.open_dataset(results, engine="h5netcdf", group="/mnist-lrm/localizer/conv/pass1/a")
        rsa = xr.open_dataset(results, engine="h5netcdf", group="/human-it/rsa")
        enc = xr.open_dataset(results, engine="h5netcdf", group="/simulated/encoding")
        c.check("xarray opens the merged groups with named dimensions",
                loc["mean_t"].dims == ("unit",) and rsa["r"].dims == ("model", "brain_rdm")
                and enc["r"].dims == ("model", "split", "neuroid"),
                (loc["mean_t"].dims, rsa["r"].dims, enc["r"].dims))
        c.check("xarray reads the merged coordinates",
                list(rsa["model"].values) == ["conv/pass0", "conv/pass1"], rsa["model"].values)
    except Exception as e:  # noqa: BLE001 - any failure to open is the finding
        c.check("xarray opens the merged groups with named dimensions", False, repr(e))
kinds = {s.split("-")[0] for s in figures_in(os.path.join(run_dir, "report"))}
c.check("the report of the merged file makes its figures",
        os.path.exists(index_path) and {"localizer", "tmap", "rsa", "encoding"} <= kinds, kinds)
if os.path.exists(results):
    shows_the_file("the report of the merged file", os.path.join(run_dir, "report"), results)
p = c.run("run", analysis, "--force", "--only", "localize", check=False)
c.check("re-running a stage merges again", p.returncode == 0, p.stderr[-600:])
c.check("... replacing its groups instead of duplicating them", not scale_problems(results),
        scale_problems(results)[:5])
with h5py.File(results, "r") as f:
    c.check("... with the same groups",
            set(f["mnist-lrm"]) == {"localizer"} and set(f["provenance"]) == {"localize", "rsa", "encode"},
            list(f["mnist-lrm"]))
c.check("no .partial results are left", not os.path.exists(results + ".partial"))

c.finish()
