"""Reading lrm result files for the figure scripts, and the shared print style.

Every layout assumption of the report lives in this module: each `read_*` function finds one kind
of analysis anywhere in a results file (stage outputs merged by `lrm run` sit under prefix groups
such as /mnist-lrm/...) and returns plain Python objects that the figure scripts plot. When a
command changes what it writes, only the matching reader here changes.
"""
import argparse
import os
import re
import sys
from dataclasses import dataclass, field

import h5py
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Opening files and walking groups


class ResultsError(Exception):
    """A results file that cannot be read: the message names the file and the problem."""


def open_results(path):
    if not os.path.exists(path):
        raise ResultsError(f"results file {path} does not exist")
    if not h5py.is_hdf5(path):
        raise ResultsError(f"results file {path} is not an HDF5 file")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise ResultsError(f"results file {path} cannot be opened: {e}") from e


def groups_named(f, name):
    """Every group called `name` anywhere in the file, in file order."""
    found = []

    def visit(path, obj):
        if isinstance(obj, h5py.Group) and path.rsplit("/", 1)[-1] == name:
            found.append(obj)

    f.visititems(visit)
    return found


def prefix_of(group, name):
    """The part of a group's path before its analysis group, e.g. 'mnist-lrm' for
    /mnist-lrm/evaluation; '' at the root."""
    path = group.name
    cut = path.rfind("/" + name)
    return path[:cut].strip("/") if cut >= 0 else ""


def text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.dtype.kind in "SO" and value.size == 1:
        return text(value.reshape(-1)[0])
    if isinstance(value, np.generic):
        return value.item()
    return value


def attr(obj, name, default=None):
    return text(obj.attrs[name]) if name in obj.attrs else default


# ---------------------------------------------------------------------------------------------
# Labelled arrays (HDF5 dimension scales, the netCDF-4 convention the suite writes)

_BARE = b"This is a netCDF dimension but not a netCDF variable"


@dataclass
class Labelled:
    values: np.ndarray
    dims: list
    coords: dict = field(default_factory=dict)  # dim name -> coordinate values (or None)

    def coord(self, dim):
        c = self.coords.get(dim)
        n = self.values.shape[self.dims.index(dim)]
        return np.arange(n) if c is None else c

    def has(self, dim):
        return dim in self.dims

    def sel(self, **where):
        """Index by coordinate value, e.g. sel(pass_=1) or sel(model='lrm3')."""
        out, dims = self.values, list(self.dims)
        for dim, value in where.items():
            dim = dim.rstrip("_")
            axis = dims.index(dim)
            idx = index_of(self.coord(dim), value)
            out = np.take(out, idx, axis=axis)
            dims.pop(axis)
        return Labelled(out, dims, {d: self.coords.get(d) for d in dims})

    def transpose(self, *order):
        order = [d for d in order if d in self.dims]
        rest = [d for d in self.dims if d not in order]
        new = order + rest
        return Labelled(np.transpose(self.values, [self.dims.index(d) for d in new]), new,
                        self.coords)


def index_of(coord, value):
    for i, c in enumerate(coord):
        if c == value or str(c) == str(value):
            return i
    raise KeyError(f"{value!r} not in {list(coord)}")


def decode(values):
    values = np.asarray(values)
    if values.dtype.kind in "SO":
        return np.array([text(v) for v in values.reshape(-1)], dtype=object).reshape(values.shape)
    return values


def labelled(ds):
    """A dataset with its dimension names and coordinate values."""
    dims, coords = [], {}
    for i in range(ds.ndim):
        name, values = f"dim_{i}", None
        if len(ds.dims[i]):
            scale = ds.dims[i][0]
            name = scale.name.rsplit("/", 1)[-1]
            bare = bytes(scale.attrs.get("NAME", b"") or b"").startswith(_BARE)
            if not bare and scale.shape == (ds.shape[i],):
                values = decode(scale[()])
        elif ds.dims[i].label:
            name = ds.dims[i].label
        dims.append(name)
        coords[name] = values
    return Labelled(decode(ds[()]), dims, coords)


def aux_coordinate(group, name, dim_length=None):
    if name in group and isinstance(group[name], h5py.Dataset):
        v = decode(group[name][()])
        if dim_length is None or v.shape[:1] == (dim_length,):
            return v
    return None


def dataset(group, *names):
    """The first of `names` that is a dataset in `group`, else None."""
    for n in names:
        if n in group and isinstance(group[n], h5py.Dataset):
            return group[n]
    return None


def value(group, *names, default=None):
    """A scalar stored as a dataset or an attribute under one of `names`."""
    for n in names:
        ds = dataset(group, n)
        if ds is not None:
            v = decode(ds[()])
            return text(v) if np.ndim(v) == 0 else v
        if n in group.attrs:
            return attr(group, n)
    return default


def pass_groups(group):
    """(pass index, group) for children named pass<k>, in pass order."""
    out = []
    for name in group:
        m = re.fullmatch(r"pass(\d+)", name)
        if m and isinstance(group[name], h5py.Group):
            out.append((int(m.group(1)), group[name]))
    return sorted(out, key=lambda t: t[0])


def pass_datasets(group):
    out = []
    for name in group:
        m = re.fullmatch(r"pass(\d+)", name)
        if m and isinstance(group[name], h5py.Dataset):
            out.append((int(m.group(1)), group[name]))
    return sorted(out, key=lambda t: t[0])


def layer_order(names):
    """Layers in network order: features.N before classifier.N, numeric parts compared as numbers."""
    def key(name):
        stage = 0 if name.startswith(("features", "conv")) else 1 if name.startswith("avgpool") else 2
        parts = re.split(r"(\d+)", name)
        return (stage, [int(p) if p.isdigit() else p for p in parts])
    return sorted(names, key=key)


def as_percent(values, group=None):
    """Rates in %: the suite stores fractions in [0, 1] unless the array says units = %."""
    values = np.asarray(values, dtype=float)
    if group is not None and str(attr(group, "units", "")).strip() in ("%", "percent"):
        return values
    finite = values[np.isfinite(values)]
    return values * 100 if finite.size == 0 or finite.max() <= 1.0 + 1e-9 else values


def is_baseline(model_name):
    return bool(re.search(r"no[-_ ]?feedback|feed[-_ ]?forward|baseline|^alexnet$|\bff\b",
                          str(model_name), re.I))


# ---------------------------------------------------------------------------------------------
# Provenance


def provenance(f):
    root = {k: text(v) for k, v in f.attrs.items()}
    stages = {}
    for g in groups_named(f, "provenance"):
        for name, stage in g.items():
            if isinstance(stage, h5py.Group):
                stages[name] = {k: text(v) for k, v in stage.attrs.items()}
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
    """Writes stem.pdf (vector), stem.svg and stem.png (300 dpi); returns the stem."""
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.join(out_dir, stem)
    fig.savefig(base + ".pdf", metadata={"CreationDate": None, "Creator": "lrm report"})
    fig.savefig(base + ".svg", metadata={"Date": None, "Creator": "lrm report"})
    fig.savefig(base + ".png", dpi=300, metadata={"Software": "lrm report"})
    plt.close(fig)
    return stem


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
    stems: list                 # file stems written (each as .pdf, .svg, .png)
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
        items = module.find(f)
        if not items:
            print(f"{module.KIND}: skipped: no {module.ABSENT} in {args.results}")
            return 0
        for item in items:
            fig = module.plot(item, args.out, vars(args))
            for stem in fig.stems:
                print(os.path.join(args.out, stem + ".pdf"))
    return 0


# ---------------------------------------------------------------------------------------------
# Readers, one per analysis. Each returns a list (one entry per occurrence in the file).


def short_name(model):
    """A checkpoint path as a model name: runs/demo/mnist-lrm.pt -> mnist-lrm."""
    base = os.path.basename(str(model).rstrip("/"))
    stem, ext = os.path.splitext(base)
    return stem if ext in (".pt", ".pth", ".ckpt", ".h5", ".tar") and stem else base or str(model)


def _models(lab, group):
    n = lab.values.shape[lab.dims.index("model")]
    if lab.coords.get("model") is not None:
        names = [short_name(m) for m in lab.coords["model"]]
        return names if len(set(names)) == len(names) else [str(m) for m in lab.coords["model"]]
    if n == 1:
        return [str(attr(group, "model", "model"))]
    return [f"model {i}" for i in range(n)]


def _baseline(group, models):
    named = attr(group, "baseline_model") or attr(group, "baseline")
    if named:
        for m in models:
            if m in (str(named), short_name(named)):
                return m
    for m in models:
        if is_baseline(m):
            return m
    return None


def _with_dims(lab, *wanted):
    """Adds length-1 dims that are missing, so readers see a fixed set of dims. Arrays without
    dimension names are taken to hold the last of `wanted`, in order."""
    values, dims = lab.values, list(lab.dims)
    if all(re.fullmatch(r"dim_\d+", d) for d in dims) and len(dims) <= len(wanted):
        dims = list(wanted[len(wanted) - len(dims):])
        lab = Labelled(values, dims, {d: None for d in dims})
    for d in wanted:
        if d not in dims:
            values = values[np.newaxis, ...]
            dims.insert(0, d)
    return Labelled(values, dims, lab.coords).transpose(*wanted)


def read_evaluation(f):
    """/<prefix>/evaluation/top1 and top5: (model × pass), coordinates model (strings) and pass."""
    out = []
    for g in groups_named(f, "evaluation"):
        top1 = dataset(g, "top1", "accuracy")
        if top1 is None:
            continue
        lab = _with_dims(labelled(top1), "model", "pass")
        models = _models(lab, g)
        item = dict(name=prefix_of(g, "evaluation"), path=g.name, models=models,
                    passes=[int(p) for p in lab.coord("pass")], top1=as_percent(lab.values, top1))
        top5 = dataset(g, "top5")
        if top5 is not None:
            item["top5"] = as_percent(_with_dims(labelled(top5), "model", "pass").values, top5)
        item["baseline"] = _baseline(g, models)
        out.append(item)
    return out


def read_robustness(f):
    """/<prefix>/robustness/accuracy (model × epsilon × pass), auc and auc_change_percent
    (model × pass); the baseline model is named by the group's `baseline` attribute or found by name
    (no feedback / feedforward); optional baseline_accuracy (epsilon) for a baseline evaluated apart."""
    out = []
    for g in groups_named(f, "robustness"):
        acc = dataset(g, "accuracy")
        if acc is None:
            continue
        lab = _with_dims(labelled(acc), "model", "epsilon", "pass")
        models = _models(lab, g)
        item = dict(name=prefix_of(g, "robustness"), path=g.name, models=models,
                    epsilons=np.asarray(lab.coord("epsilon"), dtype=float),
                    passes=[int(p) for p in lab.coord("pass")],
                    accuracy=as_percent(lab.values, acc), baseline=_baseline(g, models),
                    attack_pass=value(g, "attack_pass"))
        for key, names in [("auc", ("auc",)),
                           ("auc_change", ("auc_change_percent", "auc_change"))]:
            ds = dataset(g, *names)
            if ds is not None:
                v = _with_dims(labelled(ds), "model", "pass").values.astype(float)
                if np.isfinite(v).any():  # all NaN: no baseline was given
                    item[key] = v
        base = dataset(g, "baseline_accuracy")
        if base is not None:
            item["baseline_accuracy"] = as_percent(np.ravel(base[()]), base)
        out.append(item)
    return out


def _lookup_up(group, name, stop):
    """A dataset `name` in `group` or its ancestors up to (and including) `stop`."""
    g = group
    while True:
        if name in g and isinstance(g[name], h5py.Dataset):
            return g[name]
        if g.name == stop.name or g.name == "/":
            return None
        g = g.parent


@dataclass
class LocalizerCell:
    """One layer × pass × target of a localizer: counts now, unit arrays on demand."""
    group: h5py.Group
    root: h5py.Group
    count: int
    n_units: int

    @property
    def fraction(self):
        return self.count / self.n_units if self.n_units else float("nan")

    def unit_map(self, name="mean_t"):
        """(values, mask, channel, y, x) over units; channel/y/x are None for unlabelled units."""
        ds = dataset(self.group, name, "t_mean", "mean_t")
        vals = np.asarray(ds[()], dtype=float).reshape(-1) if ds is not None else None
        mask = dataset(self.group, "mask", "selective")
        mask = np.asarray(mask[()]).reshape(-1).astype(bool) if mask is not None else None
        pos = []
        for c in ("channel", "y", "x"):
            d = _lookup_up(self.group, c, self.root)
            pos.append(np.asarray(d[()]).reshape(-1) if d is not None else None)
        return vals, mask, *pos


def read_localizer(f):
    """/<prefix>/localizer/<layer>/pass<k>/<target>/ with `mask` (unit, 0/1), `mean_t` (unit),
    and `count`, `fraction` (scalar datasets or attributes; computed from the mask if absent);
    unit coordinates `channel`, `y`, `x` in the target, pass, layer or localizer group."""
    out = []
    for g in groups_named(f, "localizer"):
        cells = {}
        for layer, lg in g.items():
            if not isinstance(lg, h5py.Group):
                continue
            for k, pg in pass_groups(lg):
                for target, tg in pg.items():
                    if not isinstance(tg, h5py.Group):
                        continue
                    mask = dataset(tg, "mask", "selective")
                    count = value(tg, "count", "n_selective")
                    n_units = value(tg, "n_units", "units")
                    if mask is None and count is None:
                        continue
                    if count is None:
                        count = int(np.count_nonzero(mask[()]))
                    if n_units is None:
                        if mask is not None:
                            n_units = int(mask.size)
                        else:
                            frac = value(tg, "fraction")
                            n_units = int(round(count / frac)) if frac else 0
                    cells[(layer, k, target)] = LocalizerCell(tg, g, int(np.ravel(count)[0]),
                                                              int(np.ravel(n_units)[0]))
        if cells:
            out.append(dict(name=prefix_of(g, "localizer"), path=g.name, cells=cells,
                            layers=layer_order({c[0] for c in cells}),
                            passes=sorted({c[1] for c in cells}),
                            targets=sorted({c[2] for c in cells}, key=_natural),
                            test=attr(g, "test"), fdr=attr(g, "fdr"), q=attr(g, "q")))
    return out


def _natural(s):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(s))]


def read_ci(group, name, shape):
    """(low, high) for array `name`: `<name>_ci` with a last dim of 2, `<name>_ci_low/_ci_high`,
    or (for the group's main array) `ci_low/ci_high` / `ci`; None when absent or mis-shaped."""
    for ci_name in (f"{name}_ci", "ci"):
        ds = dataset(group, ci_name)
        if ds is not None and ds.shape == tuple(shape) + (2,):
            v = np.asarray(ds[()], dtype=float)
            return v[..., 0], v[..., 1]
        if ds is not None and ds.shape[:1] == (2,) and ds.shape[1:] == tuple(shape):
            v = np.asarray(ds[()], dtype=float)
            return v[0], v[1]
    for lo, hi in ((f"{name}_ci_low", f"{name}_ci_high"), (f"{name}_low", f"{name}_high"),
                   ("ci_low", "ci_high")):
        a, b = dataset(group, lo), dataset(group, hi)
        if a is not None and b is not None and a.shape == tuple(shape) == b.shape:
            return np.asarray(a[()], dtype=float), np.asarray(b[()], dtype=float)
    return None


def read_attention(f):
    """`lrm attend`: /<prefix>/attention/mean_activation (unit_type × attended) with coordinates
    naming the two categories, mean_activation_ci (… × bound), modulation_index, p, n_units and
    mean_unsteered_activation (unit_type); attributes layer, pass, alpha."""
    out = []
    for g in groups_named(f, "attention"):
        ds = dataset(g, "mean_activation", "activation")
        if ds is None or ds.ndim != 2:
            continue
        lab = labelled(ds)
        if "unit_type" in lab.dims and "attended" in lab.dims:
            lab = lab.transpose("unit_type", "attended")
        item = dict(name=prefix_of(g, "attention"), path=g.name, values=lab.values.astype(float),
                    unit_types=[str(v) for v in lab.coord(lab.dims[0])],
                    attended=[str(v) for v in lab.coord(lab.dims[1])],
                    ci=read_ci(g, ds.name.rsplit("/", 1)[-1], ds.shape),
                    index=value(g, "modulation_index", "attention_modulation_index"),
                    p=value(g, "p_value", "p"), layer=attr(g, "layer"),
                    unsteered=value(g, "mean_unsteered_activation"),
                    n_units=value(g, "n_units"),
                    pass_index=attr(g, "pass", attr(g, "pass_index")), alpha=attr(g, "alpha"))
        out.append(item)
    return out


def _layer_pass_table(g, names, n):
    """Per-model vectors of an analysis over (layer, pass) models -> {name: layer × pass array}.
    The group has a `model` coordinate with auxiliary `layer` and `pass` (lrm compare)."""
    layers_of = aux_coordinate(g, "layer", n)
    passes_of = aux_coordinate(g, "pass", n)
    if layers_of is None or passes_of is None:
        return None
    layers = layer_order(list(dict.fromkeys(str(l) for l in layers_of)))
    passes = sorted({int(p) for p in passes_of})
    out = dict(layers=layers, passes=passes)
    for name in names:
        ds = dataset(g, name)
        if ds is None or ds.shape != (n,):
            continue
        v = np.full((len(layers), len(passes)), np.nan)
        for i, x in enumerate(np.asarray(ds[()], dtype=float)):
            v[layers.index(str(layers_of[i])), passes.index(int(passes_of[i]))] = x
        out[name] = v
    return out


def brain_label(f, g, name):
    """A brain data set's name: the prefix group it was merged under, else its file name."""
    prefix = prefix_of(g, name)
    if prefix:
        return prefix
    brain = attr(g, "brain")
    if brain:
        path = str(brain).split(":")[0]
        return os.path.splitext(os.path.basename(path))[0] or str(brain)
    return name


def read_rsa(f):
    """`lrm compare rsa`: /<prefix>/rsa with coordinate `model` (layer/pass<k>) and auxiliary
    `layer`, `pass`; r_mean (model: mean over the brain RDMs), CIs ci_subjects_low/high or
    ci_stimuli_low/high (model), scalars noise_ceiling_lower/upper; attributes comparison, squared,
    brain. One entry per rsa group (one brain data set each)."""
    out = []
    for g in groups_named(f, "rsa"):
        model = dataset(g, "model")
        if model is None or dataset(g, "r_mean") is None:
            continue
        n = model.shape[0]
        t = _layer_pass_table(g, ["r_mean", "ci_subjects_low", "ci_subjects_high",
                                  "ci_stimuli_low", "ci_stimuli_high"], n)
        if t is None or "r_mean" not in t:
            continue
        item = dict(name=prefix_of(g, "rsa"), path=g.name, brain=brain_label(f, g, "rsa"),
                    layers=t["layers"], passes=t["passes"], r=t["r_mean"],
                    comparison=attr(g, "comparison"), squared=bool(attr(g, "squared", 0)),
                    n_brain_rdms=(dataset(g, "brain_rdm").shape[0]
                                  if dataset(g, "brain_rdm") is not None else None))
        for kind in ("subjects", "stimuli"):
            if f"ci_{kind}_low" in t and f"ci_{kind}_high" in t:
                item["ci"], item["ci_over"] = (t[f"ci_{kind}_low"], t[f"ci_{kind}_high"]), kind
                break
        lo, hi = value(g, "noise_ceiling_lower"), value(g, "noise_ceiling_upper")
        if lo is not None and hi is not None:
            item["ceiling"] = (float(np.ravel(lo)[0]), float(np.ravel(hi)[0]))
        out.append(item)
    return out


def _stimulus_categories(f):
    """stimulus id -> category from every group of the file holding both 1-D `stimulus` and
    `category` arrays of one length (activations, stimulus sets, localizer inputs)."""
    mapping = {}

    def visit(path, obj):
        if isinstance(obj, h5py.Group) and "stimulus" in obj and "category" in obj:
            ids, cats = obj["stimulus"], obj["category"]
            if isinstance(ids, h5py.Dataset) and isinstance(cats, h5py.Dataset) and \
                    ids.ndim == 1 and ids.shape == cats.shape and ids.dtype.kind in "SO":
                for i, c in zip(decode(ids[()]), decode(cats[()])):
                    mapping.setdefault(str(i), str(c))

    f.visititems(visit)
    return mapping


def _categories_for(ds, mapping):
    """Categories of an RDM's conditions: a `category` coordinate next to it (or in its group's
    parent), else its `stimulus` coordinate looked up in the file's stimulus -> category map."""
    n = ds.shape[0]
    for g in (ds.parent, ds.parent.parent):
        v = aux_coordinate(g, "category", n)
        if v is not None:
            return np.asarray([str(x) for x in v], dtype=object)
    ids = None
    if len(ds.dims[0]):
        scale = ds.dims[0][0]
        if scale.shape == (n,) and scale.dtype.kind in "SO":
            ids = decode(scale[()])
    if ids is None:
        for g in (ds.parent, ds.parent.parent):
            ids = aux_coordinate(g, "stimulus", n)
            if ids is not None:
                break
    if ids is not None and mapping and all(str(i) in mapping for i in ids):
        return np.asarray([mapping[str(i)] for i in ids], dtype=object)
    return None


def read_rdms(f):
    """`lrm compare rsa --save-rdms`: /<prefix>/rsa/model_rdm/<layer>/pass<k> and
    /<prefix>/rsa/brain_rdm_mean (stimulus × stimulus_b). Conditions are ordered by category when
    a `category` coordinate sits beside them or their stimulus ids are found with categories
    elsewhere in the file (e.g. merged activations or stimulus sets). One entry per rsa group."""
    out = []
    mapping = None
    for g in groups_named(f, "rsa"):
        rdms = []
        mg = g.get("model_rdm")
        if isinstance(mg, h5py.Group):
            for layer, lg in mg.items():
                if isinstance(lg, h5py.Group):
                    for k, ds in pass_datasets(lg):
                        if ds.ndim == 2 and ds.shape[0] == ds.shape[1] >= 3:
                            rdms.append(dict(label=layer, layer=layer, pass_index=k, ds=ds))
        brain = dataset(g, "brain_rdm_mean")
        if brain is not None and brain.ndim == 2 and brain.shape[0] == brain.shape[1] >= 3:
            rdms.append(dict(label=brain_label(f, g, "rsa"), layer=None, pass_index=None, ds=brain))
        if not rdms:
            continue
        if mapping is None:
            mapping = _stimulus_categories(f)
        for r in rdms:
            ds = r.pop("ds")
            r.update(path=ds.name, rdm=np.asarray(ds[()], dtype=float),
                     category=_categories_for(ds, mapping))
        out.append(dict(name=prefix_of(g, "rsa"), path=g.name, rdms=rdms))
    return out


def read_encoding(f):
    """`lrm compare encode`: /<prefix>/encoding with coordinate `model` (layer/pass<k>) and
    auxiliary `layer`, `pass`; score_raw (median over neuroids of the held-out r, mean over
    splits), score_error, score_ceiled (r / ceiling) (model); scalar ceiling; attributes
    regression, brain, simulated, true_ceiling. One entry per encoding group (one neural data set,
    e.g. one region, each)."""
    out = []
    for g in groups_named(f, "encoding"):
        model = dataset(g, "model")
        if model is None or dataset(g, "score_raw") is None:
            continue
        t = _layer_pass_table(g, ["score_raw", "score_error", "score_ceiled"], model.shape[0])
        if t is None or "score_raw" not in t:
            continue
        ceiling = value(g, "ceiling")
        simulated = attr(g, "simulated")
        item = dict(name=prefix_of(g, "encoding"), path=g.name, region=brain_label(f, g, "encoding"),
                    layers=t["layers"], passes=t["passes"], score=t["score_raw"],
                    regression=attr(g, "regression"),
                    simulated=str(simulated) in ("1", "true", "True") if simulated is not None else False,
                    true_ceiling=attr(g, "true_ceiling"),
                    ceiling=float(np.ravel(ceiling)[0]) if ceiling is not None else None)
        if "score_error" in t:
            item["error"] = t["score_error"]
        if "score_ceiled" in t:
            item["ceiled"] = t["score_ceiled"]
        out.append(item)
    return out


def model_label(f, group, name):
    """What to call the model of an analysis group: its `model` attribute, the root's `model`
    provenance (single-stage files), else the prefix group it was merged under."""
    label = attr(group, "model")
    if label is None and group.parent.name == "/":
        label = attr(f, "model")
    if label is None:
        label = prefix_of(group, name) or "model"
    return str(label)


def model_without_composite(st):
    """The model of a steering result whose prefix also names the composite kind
    (e.g. /additive-overlay/steering -> additive)."""
    label = re.sub(r"[-_/ ]*(overlay|side[-_]?by[-_]?side|sbs)[-_/ ]*", "-", st["model"], flags=re.I)
    return label.strip("-") or st["model"]


def read_steering(f):
    """`lrm steer`: /<prefix>/steering with coordinate `condition` (pass0, pass<last>, then
    '<type> alpha=<a>'), auxiliary `steering_type` ('none' for the unsteered passes) and `pass`,
    `alpha` (condition); hit_rate, false_alarm_rate, a_prime (condition) with `<name>_ci`
    (condition × bound); mean_output (condition × steer_toward × output_of) and mean_output_ci;
    attributes composite (overlay | side-by-side), readout_pass, level; optional
    single_image_accuracy (attribute or scalar)."""
    out = []
    for g in groups_named(f, "steering"):
        cond = dataset(g, "condition")
        if cond is None or (dataset(g, "hit_rate") is None and dataset(g, "mean_output") is None):
            continue
        conditions = [str(c) for c in decode(cond[()])]
        n = len(conditions)
        types = aux_coordinate(g, "steering_type", n)
        alphas = aux_coordinate(g, "alpha", n)
        passes = aux_coordinate(g, "pass", n)
        item = dict(name=prefix_of(g, "steering"), path=g.name, model=model_label(f, g, "steering"),
                    composite=str(attr(g, "composite", "composite")), conditions=conditions,
                    types=[str(t) for t in types] if types is not None else ["none"] * n,
                    alphas=np.asarray(alphas, dtype=float) if alphas is not None else np.zeros(n),
                    passes=np.asarray(passes, dtype=int) if passes is not None else np.zeros(n, int),
                    level=float(attr(g, "level", 0.95)), readout_pass=attr(g, "readout_pass"),
                    single_image_accuracy=value(g, "single_image_accuracy"))
        for key in ("hit_rate", "false_alarm_rate", "a_prime", "d_prime"):
            ds = dataset(g, key)
            if ds is not None and ds.shape == (n,):
                item[key] = np.asarray(ds[()], dtype=float)
                ci = read_ci(g, key, (n,))
                if ci is not None:
                    item[key + "_ci"] = ci
        ds = dataset(g, "mean_output")
        if ds is not None and ds.ndim == 3 and ds.shape[0] == n:
            lab = labelled(ds).transpose("condition", "steer_toward", "output_of")
            item["mean_output"] = lab.values.astype(float)
            item["steer_toward"] = [str(v) for v in lab.coord("steer_toward")]
            item["output_of"] = [str(v) for v in lab.coord("output_of")]
            ci = read_ci(g, "mean_output", ds.shape)
            if ci is not None:
                item["mean_output_ci"] = ci
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
