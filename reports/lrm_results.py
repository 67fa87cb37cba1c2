"""Reading lrm result files for the figure scripts, and the shared print style.

A results file is netCDF-4-style HDF5: every array has named dimensions (HDF5 dimension scales)
and coordinates, so each analysis group opens as an xarray Dataset (engine h5netcdf); the groups
are found by walking the file with h5netcdf. Every layout assumption of the report lives in this
module: each `read_*` function finds one kind of analysis anywhere in a results file (stage
outputs merged by `lrm run` sit under prefix groups such as /mnist-lrm/...) and returns plain
Python objects that the figure scripts plot. The readers accept only the names the lrm commands
write, and convert values by their `units` attribute. When a command changes what it writes, only
the matching reader here changes.
"""
import argparse
import json
import os
import re
import sys
from dataclasses import dataclass, field

import h5netcdf
import matplotlib
import numpy as np
import xarray as xr

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Opening files and walking groups


class ResultsError(Exception):
    """A results file that cannot be read: the message names the file and the problem."""


class Results:
    """An open results file: its groups (walked with h5netcdf) and each group's arrays as an
    xarray Dataset, read lazily and closed with the file."""

    def __init__(self, path):
        self.path = path
        try:
            self._file = h5netcdf.File(path, "r", phony_dims="access")
        except OSError as e:
            raise ResultsError(f"results file {path} is not an HDF5 file: {e}") from e
        self._datasets = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        for ds in self._datasets.values():
            ds.close()
        self._datasets.clear()
        self._file.close()

    @property
    def attrs(self):
        """The root attributes (provenance), as Python values."""
        return attributes(self._file)

    def walk(self):
        """Every group, depth first, children in name order."""
        stack = [self._file]
        while stack:
            g = stack.pop()
            yield g
            stack.extend(g.groups[name] for name in sorted(g.groups, reverse=True))

    def groups_named(self, name):
        """Paths of every group called `name`, in file order."""
        return [g.name for g in self.walk() if g.name.rsplit("/", 1)[-1] == name]

    def group(self, path):
        g = self._file
        for part in path.strip("/").split("/"):
            if part:
                g = g.groups[part]
        return g

    def has_group(self, path):
        try:
            self.group(path)
            return True
        except KeyError:
            return False

    def values(self, path, name):
        """Array `name` of the group at `path` without its labels (None when absent): cheaper
        than a Dataset where only values are needed."""
        variables = self.group(path).variables
        return variables[name][...] if name in variables else None

    def dataset(self, path):
        """The group at `path` as an xarray Dataset."""
        if path not in self._datasets:
            try:
                # phony_dims: arrays without dimension scales (none that lrm writes) stay readable
                self._datasets[path] = xr.open_dataset(self.path, group=path, engine="h5netcdf",
                                                       phony_dims="access")
            except (OSError, ValueError, KeyError) as e:
                raise ResultsError(f"{self.path}:{path} cannot be read as labelled arrays: {e}") \
                    from e
        return self._datasets[path]


def open_results(path):
    if not os.path.exists(path):
        raise ResultsError(f"results file {path} does not exist")
    return Results(path)


def text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.size == 1:
        return text(value.reshape(-1)[0])
    if isinstance(value, np.generic):
        return value.item()
    return value


def attributes(obj):
    return {k: text(v) for k, v in obj.attrs.items()}


def prefix_of(path, name):
    """The part of a group's path before its analysis group, e.g. 'mnist-lrm' for
    /mnist-lrm/evaluation; '' at the root."""
    cut = path.rfind("/" + name)
    return path[:cut].strip("/") if cut >= 0 else ""


def strings(da):
    return [str(text(v)) for v in np.ravel(da.values)]


def floats(da):
    return np.asarray(da.values, dtype=float)


def required_attr(da, name, where):
    """An attribute the lrm commands write on array `da` of group `where`."""
    if name not in da.attrs:
        raise ResultsError(f"{where}/{da.name} has no {name} attribute (written by an older lrm: "
                           "run the analysis again)")
    return text(da.attrs[name])


def _units(da, where):
    return str(required_attr(da, "units", where))


def percent(da, where):
    """A rate in %, converted by its units attribute ('1': a fraction; '%')."""
    units = _units(da, where)
    if units not in ("1", "%"):
        raise ResultsError(f"{where}/{da.name} has units {units!r}; a rate has '1' or '%'")
    return floats(da) * (100 if units == "1" else 1)


def fraction(da, where):
    """A rate as a fraction, converted by its units attribute ('1'; '%')."""
    return percent(da, where) / 100


def layer_order(names):
    """Layers in network order: features.N before classifier.N, numeric parts compared as numbers."""
    def key(name):
        stage = 0 if name.startswith(("features", "conv")) else 1 if name.startswith("avgpool") else 2
        parts = re.split(r"(\d+)", name)
        return (stage, [int(p) if p.isdigit() else p for p in parts])
    return sorted(names, key=key)


def _natural(s):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(s))]


# ---------------------------------------------------------------------------------------------
# Provenance


def provenance(f):
    root = f.attrs
    stages = {}
    for path in f.groups_named("provenance"):
        g = f.group(path)
        for name, stage in g.groups.items():
            stages[name] = attributes(stage)
    return root, stages


# ---------------------------------------------------------------------------------------------
# Print style: single-column width, Okabe-Ito colours, no chart junk

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000"]
# Model / category colours skip yellow (too light on white) and black (kept for pass 0 and
# baselines).
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]
PASS_COLOURS = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#CC79A7"]
SINGLE_COLUMN = 3.5  # inches
DOUBLE_COLUMN = 7.2


def colour(i):
    return COLOURS[i % len(COLOURS)]


def pass_colour(k):
    return PASS_COLOURS[k % len(PASS_COLOURS)]


def use_style():
    plt.rcParams.update({
        "font.family": "DejaVu Sans",
        "font.size": 7,
        "axes.titlesize": 7,
        "axes.labelsize": 7,
        "xtick.labelsize": 6,
        "ytick.labelsize": 6,
        "legend.fontsize": 6,
        "legend.frameon": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.linewidth": 0.6,
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "xtick.major.size": 2.5,
        "ytick.major.size": 2.5,
        "lines.linewidth": 1.2,
        "lines.markersize": 3.5,
        "errorbar.capsize": 1.5,
        "figure.dpi": 100,
        "savefig.bbox": "tight",
        "savefig.pad_inches": 0.02,
        "pdf.fonttype": 42,  # TrueType: text stays editable in illustration software
        "svg.fonttype": "path",
        "svg.hashsalt": "lrm-report",  # reproducible SVG ids
    })


def save(fig, out_dir, stem):
    """Writes stem.pdf (vector), stem.svg, stem.png (300 dpi) and stem.json (the data plotted,
    read back from the figure: figure_data); returns the stem."""
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.join(out_dir, stem)
    fig.savefig(base + ".pdf", metadata={"CreationDate": None, "Creator": "lrm report"})
    fig.savefig(base + ".svg", metadata={"Date": None, "Creator": "lrm report"})
    fig.savefig(base + ".png", dpi=300, metadata={"Software": "lrm report"})
    with open(base + ".json", "w", encoding="utf-8") as h:
        json.dump(figure_data(fig), h, ensure_ascii=False, separators=(",", ":"))
    plt.close(fig)
    return stem


def _numbers(values):
    """Floats with 7 significant digits (None for NaN and infinities), nested like `values`."""
    a = np.ma.filled(np.ma.asarray(values, dtype=float), np.nan)
    return np.vectorize(lambda v: float(f"{v:.7g}") if np.isfinite(v) else None,
                        otypes=[object])(a).tolist() if a.size else []


def _label(artist):
    label = artist.get_label()
    return None if not label or label.startswith("_") else label


def _errorbar(container):
    """(low, high) ends of a container's vertical error bars."""
    segments = [s for c in container.lines[2] for s in c.get_segments()]
    return (_numbers([s[0][1] for s in segments]), _numbers([s[1][1] for s in segments]))


def _axes_data(ax):
    bars, errorbars, skip = [], [], set()
    for c in ax.containers:
        if isinstance(c, BarContainer):
            bar = dict(label=_label(c), x=_numbers([p.get_x() + p.get_width() / 2 for p in c]),
                       height=_numbers([p.get_height() for p in c]))
            if c.errorbar is not None:
                bar["low"], bar["high"] = _errorbar(c.errorbar)
                skip.update(id(line) for line in c.errorbar.lines[1])
            bars.append(bar)
        elif isinstance(c, ErrorbarContainer) and c.lines[0] is not None:  # not a bar's
            line = c.lines[0]
            low, high = _errorbar(c)
            errorbars.append(dict(label=_label(c), x=_numbers(line.get_xdata()),
                                  y=_numbers(line.get_ydata()), low=low, high=high))
            skip.update(id(cap) for cap in c.lines[1])
    return dict(
        title=ax.get_title(), xlabel=ax.get_xlabel(), ylabel=ax.get_ylabel(),
        xticklabels=[t.get_text() for t in ax.get_xticklabels()],
        yticklabels=[t.get_text() for t in ax.get_yticklabels()],
        lines=[dict(label=_label(line), x=_numbers(line.get_xdata()), y=_numbers(line.get_ydata()))
               for line in ax.lines if id(line) not in skip],
        bars=bars, errorbars=errorbars,
        images=[_numbers(im.get_array()) for im in ax.images],
        points=[_numbers(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection)],
        texts=[t.get_text() for t in ax.texts],
        legend=[t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else [])


def figure_data(fig):
    """What a figure shows, read back from its artists: per visible axes its title, labels, tick
    labels, lines (x, y), bars (centre, height, error-bar ends), error-bar series, images, scatter
    points and texts; the figure's title and legends."""
    return dict(suptitle=fig._suptitle.get_text() if fig._suptitle else "",
                legends=[[t.get_text() for t in lg.get_texts()] for lg in fig.legends],
                axes=[_axes_data(ax) for ax in fig.axes if ax.get_visible()])


def slug(*parts):
    s = "-".join(str(p) for p in parts if p not in (None, ""))
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s).strip("_") or "all"


def panel_label(ax, letter):
    ax.text(-0.02, 1.02, letter, transform=ax.transAxes, ha="right", va="bottom",
            fontweight="bold", fontsize=8)


def html_table(header, rows, caption=None):
    """A small HTML table; cells are formatted by `cell`."""
    import html
    out = ['<table class="data">']
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{html.escape(cell(c))}</td>" for c in row) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def cell(v):
    if isinstance(v, (float, np.floating)):
        return "—" if not np.isfinite(v) else f"{v:.3g}" if abs(v) < 1e4 else f"{v:.4g}"
    return str(v)


# ---------------------------------------------------------------------------------------------
# The figure-script protocol: each script defines KIND, TITLE, ABSENT, find(f) -> items and
# plot(item, out_dir, options) -> Figure, optionally add_arguments(parser) for its own options
# (options is a dict; the driver passes {}). `main` makes a script usable on its own.


@dataclass
class Figure:
    stems: list                 # file stems written (each as .pdf, .svg, .png, .json)
    caption: str
    tables: list = field(default_factory=list)  # HTML snippets


def main(module, argv=None):
    p = argparse.ArgumentParser(description=f"{module.TITLE}: figures from an lrm results file "
                                "(PDF, SVG and PNG).")
    p.add_argument("results", help="results file written by lrm (HDF5)")
    p.add_argument("--out", default=".", help="folder for the figures (default: .)")
    if hasattr(module, "add_arguments"):
        module.add_arguments(p)
    args = p.parse_args(argv)
    try:
        f = open_results(args.results)
    except ResultsError as e:
        print(f"{module.KIND}: error: {e}", file=sys.stderr)
        return 2
    use_style()
    with f:
        try:
            items = module.find(f)
            if not items:
                print(f"{module.KIND}: skipped: no {module.ABSENT} in {args.results}")
                return 0
            for item in items:
                fig = module.plot(item, args.out, vars(args))
                for stem in fig.stems:
                    print(os.path.join(args.out, stem + ".pdf"))
        except ResultsError as e:
            print(f"{module.KIND}: error: {e}", file=sys.stderr)
            return 1
    return 0


# ---------------------------------------------------------------------------------------------
# Readers, one per analysis. Each returns a list (one entry per occurrence in the file).


def analyses(f, name, variable):
    """(path, Dataset) of every group called `name` that holds `variable` (a group of another
    kind may share the name, e.g. /provenance/rsa)."""
    for path in f.groups_named(name):
        ds = f.dataset(path)
        if variable in ds:
            yield path, ds


def short_name(model):
    """A checkpoint path as a model name: runs/demo/mnist-lrm.pt -> mnist-lrm."""
    base = os.path.basename(str(model).rstrip("/"))
    stem, ext = os.path.splitext(base)
    return stem if ext in (".pt", ".pth", ".ckpt", ".h5", ".tar") and stem else base or str(model)


def _models(ds):
    """Model names from the `model` coordinate (checkpoint paths), short where they stay unique;
    and the one the group's `baseline` attribute names (None when it names none)."""
    paths = strings(ds["model"])
    names = [short_name(m) for m in paths]
    if len(set(names)) != len(names):
        names = paths
    baseline = str(ds.attrs.get("baseline", ""))
    return names, names[paths.index(baseline)] if baseline in paths else None


def read_evaluation(f):
    """`lrm evaluate`: /<prefix>/evaluation/top1 and top5 (model × pass) with their units, the
    coordinates model (checkpoints) and pass; attribute baseline (the model without feedback)."""
    out = []
    for path, ds in analyses(f, "evaluation", "top1"):
        models, baseline = _models(ds)
        out.append(dict(name=prefix_of(path, "evaluation"), path=path, models=models,
                        passes=[int(k) for k in ds["pass"].values], baseline=baseline,
                        top1=percent(ds["top1"].transpose("model", "pass"), path),
                        top5=percent(ds["top5"].transpose("model", "pass"), path)))
    return out


def read_robustness(f):
    """`lrm robustness`: /<prefix>/robustness/accuracy (model × epsilon × pass), auc and
    auc_change_percent (model × pass), with their units; attributes baseline (the model the change
    is against; empty for none) and attack_pass."""
    out = []
    for path, ds in analyses(f, "robustness", "accuracy"):
        models, baseline = _models(ds)
        item = dict(name=prefix_of(path, "robustness"), path=path, models=models,
                    epsilons=floats(ds["epsilon"]), passes=[int(k) for k in ds["pass"].values],
                    accuracy=percent(ds["accuracy"].transpose("model", "epsilon", "pass"), path),
                    baseline=baseline, attack_pass=ds.attrs.get("attack_pass"),
                    auc=floats(ds["auc"].transpose("model", "pass")))
        change = percent(ds["auc_change_percent"].transpose("model", "pass"), path)
        if np.isfinite(change).any():  # all NaN: no baseline was given
            item["auc_change"] = change
        out.append(item)
    return out


@dataclass
class LocalizerCell:
    """One layer × pass × target of a localizer: counts now, unit arrays on demand."""
    results: Results
    path: str
    count: int
    n_units: int

    @property
    def fraction(self):
        return self.count / self.n_units if self.n_units else float("nan")

    def spatial(self):
        """True when the units have feature-map positions (channel, y, x) beyond one pixel."""
        channel, y, x = (self.results.values(self.path, c) for c in ("channel", "y", "x"))
        return channel is not None and y is not None and x is not None and \
            (y.max() > 0 or x.max() > 0)

    def unit_map(self):
        """(mean t, selective mask, channel, y, x) over units; channel/y/x are None for units
        without feature-map positions."""
        ds = self.results.dataset(self.path)
        pos = [ds[c].values if c in ds else None for c in ("channel", "y", "x")]
        return floats(ds["mean_t"]), ds["selective"].values.astype(bool), *pos


def read_localizer(f):
    """`lrm localize`: /<prefix>/localizer/summary (one row per layer, pass and target: n_units,
    n_selective) and per cell /<prefix>/localizer/<layer>/pass<k>/<target>/ with `selective` and
    `mean_t` (unit) and the unit coordinates channel, y, x; attributes test, fdr, q."""
    out = []
    for path in f.groups_named("localizer"):
        if not f.has_group(path + "/summary"):
            continue
        s = f.dataset(path + "/summary")
        cells = {}
        for layer, k, target, count, n in zip(strings(s["layer"]), s["pass"].values,
                                              strings(s["target"]), s["n_selective"].values,
                                              s["n_units"].values):
            cells[(layer, int(k), target)] = LocalizerCell(
                f, f"{path}/{layer}/pass{int(k)}/{target}", int(count), int(n))
        if cells:
            attrs = attributes(f.group(path))
            out.append(dict(name=prefix_of(path, "localizer"), path=path, cells=cells,
                            layers=layer_order({c[0] for c in cells}),
                            passes=sorted({c[1] for c in cells}),
                            targets=sorted({c[2] for c in cells}, key=_natural),
                            test=attrs.get("test"), fdr=attrs.get("fdr"), q=attrs.get("q")))
    return out


def read_ci(ds, name):
    """(low, high) of array `name` from `<name>_ci` (… × bound), or None when not written."""
    ci = ds.get(name + "_ci")
    if ci is None:
        return None
    ci = ci.transpose(*ds[name].dims, "bound")
    return floats(ci.sel(bound="low")), floats(ci.sel(bound="high"))


def read_attention(f):
    """`lrm attend`: /<prefix>/attention/mean_activation (unit_type × attended) with coordinates
    naming the two categories, mean_activation_ci (… × bound), modulation_index, p, n_units and
    mean_unsteered_activation (unit_type); attributes layer, pass, alpha."""
    out = []
    for path, ds in analyses(f, "attention", "mean_activation"):
        v = ds["mean_activation"].transpose("unit_type", "attended")
        out.append(dict(name=prefix_of(path, "attention"), path=path, values=floats(v),
                        unit_types=strings(ds["unit_type"]), attended=strings(ds["attended"]),
                        ci=read_ci(ds, "mean_activation"),
                        index=floats(ds["modulation_index"]), p=floats(ds["p"]),
                        unsteered=floats(ds["mean_unsteered_activation"]),
                        n_units=ds["n_units"].values, layer=ds.attrs.get("layer"),
                        pass_index=ds.attrs.get("pass"), alpha=ds.attrs.get("alpha")))
    return out


def _layer_pass_table(ds, names):
    """Arrays over the `model` coordinate (one per layer and pass, with auxiliary coordinates
    `layer` and `pass`; lrm compare) as layer × pass tables: {name: array} and the layers, passes."""
    layers_of, passes_of = strings(ds["layer"]), [int(k) for k in ds["pass"].values]
    layers = layer_order(list(dict.fromkeys(layers_of)))
    passes = sorted(set(passes_of))
    out = dict(layers=layers, passes=passes)
    for name in names:
        if name not in ds:
            continue
        v = np.full((len(layers), len(passes)), np.nan)
        for layer, k, x in zip(layers_of, passes_of, floats(ds[name])):
            v[layers.index(layer), passes.index(k)] = x
        out[name] = v
    return out


def brain_label(f, path, name):
    """A brain data set's name: the prefix group it was merged under, else its file name."""
    prefix = prefix_of(path, name)
    if prefix:
        return prefix
    brain = f.dataset(path).attrs.get("brain")
    if brain:
        return os.path.splitext(os.path.basename(str(brain).split(":")[0]))[0] or str(brain)
    return name


def read_rsa(f):
    """`lrm compare rsa`: /<prefix>/rsa with coordinate `model` (layer/pass<k>) and auxiliary
    `layer`, `pass`; r_mean (model: mean over the brain RDMs), CIs ci_subjects_low/high or
    ci_stimuli_low/high (model), scalars noise_ceiling_lower/upper; attributes comparison, squared,
    brain. One entry per rsa group (one brain data set each)."""
    out = []
    for path, ds in analyses(f, "rsa", "r_mean"):
        t = _layer_pass_table(ds, ["r_mean", "ci_subjects_low", "ci_subjects_high",
                                   "ci_stimuli_low", "ci_stimuli_high"])
        item = dict(name=prefix_of(path, "rsa"), path=path, brain=brain_label(f, path, "rsa"),
                    layers=t["layers"], passes=t["passes"], r=t["r_mean"],
                    comparison=ds.attrs.get("comparison"), squared=bool(ds.attrs.get("squared")),
                    n_brain_rdms=ds.sizes["brain_rdm"])
        for kind in ("subjects", "stimuli"):
            if f"ci_{kind}_low" in t:
                item["ci"], item["ci_over"] = (t[f"ci_{kind}_low"], t[f"ci_{kind}_high"]), kind
                break
        if "noise_ceiling_lower" in ds:
            item["ceiling"] = (float(ds["noise_ceiling_lower"]), float(ds["noise_ceiling_upper"]))
        out.append(item)
    return out


def read_rsa_inference(f):
    """`lrm compare rsa --inference`: /<prefix>/rsa/inference with `model` × `model_b` arrays
    difference, p_pairwise, p_pairwise_fdr; per model evaluation, evaluation_bootstrap_mean (files
    of earlier versions lack it), evaluation_ci_low/high,
    p_vs_zero, p_vs_lower_ceiling; scalars noise_ceiling_lower/upper, p_ceiling_vs_chance."""
    out = []
    for path, ds in analyses(f, "inference", "p_pairwise"):
        rsa_path = path.rsplit("/", 1)[0]
        out.append(dict(
            path=path, brain=brain_label(f, rsa_path, "rsa"), models=strings(ds["model"]),
            evaluation=floats(ds["evaluation"]),
            bootstrap_mean=(floats(ds["evaluation_bootstrap_mean"])
                            if "evaluation_bootstrap_mean" in ds else None),
            low=floats(ds["evaluation_ci_low"]),
            high=floats(ds["evaluation_ci_high"]), p_fdr=np.asarray(ds["p_pairwise_fdr"].values, float),
            p_zero=floats(ds["p_vs_zero"]), p_ceiling=floats(ds["p_vs_lower_ceiling"]),
            ceiling=(float(ds["noise_ceiling_lower"]), float(ds["noise_ceiling_upper"])),
            p_chance=float(ds["p_ceiling_vs_chance"]), over=str(ds.attrs.get("bootstrap_over", "")),
            comparison=f.dataset(rsa_path).attrs.get("comparison")))
    return out


def read_cka(f):
    """`lrm compare cka`: /<prefix>/cka/cka (model × model_b, layer/pass<k> labels) with attributes
    kernel and debiased."""
    out = []
    for path, ds in analyses(f, "cka", "cka"):
        out.append(dict(path=path, name=prefix_of(path, "cka") or "", models=strings(ds["model"]),
                        cka=np.asarray(ds["cka"].values, float), kernel=str(ds.attrs.get("kernel")),
                        debiased=bool(ds.attrs.get("debiased"))))
    return out


def _stimulus_categories(f):
    """stimulus id -> category from every group of the file with a `category` along its
    `stimulus` coordinate (activations, stimulus sets)."""
    mapping = {}
    for g in f.walk():  # values only: opening each activation layer as a Dataset is slow
        v = g.variables
        if "stimulus" in v and "category" in v and v["category"].dimensions == ("stimulus",):
            for i, c in zip(v["stimulus"][...], v["category"][...]):
                mapping.setdefault(str(text(i)), str(text(c)))
    return mapping


def read_rdms(f):
    """`lrm compare rsa --save-rdms`: /<prefix>/rsa/model_rdm/<layer>/pass<k> and
    /<prefix>/rsa/brain_rdm_mean (stimulus × stimulus_b). Conditions are ordered by category when
    their stimulus ids are found with categories elsewhere in the file (e.g. merged activations or
    stimulus sets). One entry per rsa group."""
    out = []
    mapping = None
    for path in f.groups_named("rsa"):
        rdms = []
        if f.has_group(path + "/model_rdm"):
            for layer in sorted(f.group(path + "/model_rdm").groups):
                lds = f.dataset(f"{path}/model_rdm/{layer}")
                for name in sorted(lds.data_vars, key=_natural):
                    m = re.fullmatch(r"pass(\d+)", name)
                    if m:
                        rdms.append(dict(label=layer, layer=layer, pass_index=int(m.group(1)),
                                         da=lds[name], path=f"{path}/model_rdm/{layer}/{name}"))
        ds = f.dataset(path)
        if "brain_rdm_mean" in ds:
            rdms.append(dict(label=brain_label(f, path, "rsa"), layer=None, pass_index=None,
                             da=ds["brain_rdm_mean"], path=f"{path}/brain_rdm_mean"))
        if not rdms:
            continue
        if mapping is None:
            mapping = _stimulus_categories(f)
        for r in rdms:
            da = r.pop("da")
            ids = strings(da["stimulus"])
            r.update(rdm=floats(da), category=np.asarray([mapping[i] for i in ids], dtype=object)
                     if all(i in mapping for i in ids) else None)
        out.append(dict(name=prefix_of(path, "rsa"), path=path, rdms=rdms))
    return out


def read_encoding(f):
    """`lrm compare encode`: /<prefix>/encoding with coordinate `model` (layer/pass<k>) and
    auxiliary `layer`, `pass`; score_raw (median over neuroids of the held-out r, mean over
    splits), score_error, score_ceiled (r / ceiling) (model); scalar ceiling; attributes
    regression, brain, simulated, true_ceiling. One entry per encoding group (one neural data set,
    e.g. one region, each)."""
    out = []
    for path, ds in analyses(f, "encoding", "score_raw"):
        t = _layer_pass_table(ds, ["score_raw", "score_error", "score_ceiled"])
        out.append(dict(name=prefix_of(path, "encoding"), path=path,
                        region=brain_label(f, path, "encoding"), layers=t["layers"],
                        passes=t["passes"], score=t["score_raw"], error=t["score_error"],
                        ceiled=t["score_ceiled"], regression=ds.attrs.get("regression"),
                        simulated=str(ds.attrs.get("simulated", "0")) == "1",
                        true_ceiling=ds.attrs.get("true_ceiling"),
                        ceiling=float(ds["ceiling"])))
    return out


def model_label(f, path, name):
    """What to call the model of an analysis group: the root's `model` provenance in a
    single-stage file, else the prefix group it was merged under."""
    label = f.attrs.get("model") if path.count("/") == 1 else None
    return str(label or prefix_of(path, name) or "model")


def model_without_composite(st):
    """The model of a steering result whose prefix also names the composite kind
    (e.g. /additive-overlay/steering -> additive)."""
    label = re.sub(r"[-_/ ]*(overlay|side[-_]?by[-_]?side|sbs)[-_/ ]*", "-", st["model"], flags=re.I)
    return label.strip("-") or st["model"]


def read_steering(f):
    """`lrm steer`: /<prefix>/steering with coordinate `condition` (pass0, pass<last>, then
    '<type> alpha=<a>'), auxiliary `steering_type` ('none' for the unsteered passes) and `pass`,
    `alpha` (condition); hit_rate, false_alarm_rate, a_prime (condition, with units; a_prime's
    `chance` attribute) with `<name>_ci` (condition × bound); mean_output (condition × steer_toward
    × output_of, with units) and mean_output_ci; attributes composite (overlay | side-by-side),
    readout_pass, level, single_image_accuracy (a fraction). Rates are returned as fractions."""
    out = []
    for path, ds in analyses(f, "steering", "mean_output"):
        a = ds.attrs
        item = dict(name=prefix_of(path, "steering"), path=path,
                    model=model_label(f, path, "steering"), composite=str(a.get("composite")),
                    conditions=strings(ds["condition"]), types=strings(ds["steering_type"]),
                    alphas=floats(ds["alpha"]), passes=ds["pass"].values.astype(int),
                    level=float(a.get("level")), readout_pass=a.get("readout_pass"),
                    single_image_accuracy=a.get("single_image_accuracy"))
        for key in ("hit_rate", "false_alarm_rate", "a_prime"):
            if key in ds:
                item[key] = fraction(ds[key], path)
                item[key + "_ci"] = tuple(fraction(ds[key + "_ci"].sel(bound=b), path)
                                          for b in ("low", "high"))
        if "a_prime" in ds:
            item["chance"] = float(required_attr(ds["a_prime"], "chance", path))
        mean = ds["mean_output"].transpose("condition", "steer_toward", "output_of")
        item.update(mean_output=floats(mean), mean_output_units=_units(mean, path),
                    steer_toward=strings(ds["steer_toward"]), output_of=strings(ds["output_of"]),
                    mean_output_ci=read_ci(ds, "mean_output"))
        out.append(item)
    return out


def steering_types(st):
    return list(dict.fromkeys(t for t in st["types"] if t != "none"))


def choose_alpha(st, preferred=3.0):
    """The gain shown where one α is plotted: `preferred` (the paper's best, 3) when it was run,
    else the α with the highest mean A′ (or the largest α)."""
    steered = [a for a, t in zip(st["alphas"], st["types"]) if t != "none"]
    if not steered:
        return None
    if any(np.isclose(a, preferred) for a in steered):
        return preferred
    if "a_prime" in st:
        alphas = sorted(set(steered))
        means = [np.nanmean([v for v, a, t in zip(st["a_prime"], st["alphas"], st["types"])
                             if t != "none" and a == x]) for x in alphas]
        return alphas[int(np.nanargmax(means))]
    return max(steered)


def condition_index(st, steering_type, alpha=None, pass_index=None):
    for i, (t, a, k) in enumerate(zip(st["types"], st["alphas"], st["passes"])):
        if t == steering_type and (alpha is None or np.isclose(a, alpha)) and \
                (pass_index is None or k == pass_index):
            return i
    return None
