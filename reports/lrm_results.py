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


def _models(lab, group):
    n = lab.values.shape[lab.dims.index("model")]
    if lab.coords.get("model") is not None:
        return [str(m) for m in lab.coords["model"]]
    if n == 1:
        return [str(attr(group, "model", "model"))]
    return [f"model {i}" for i in range(n)]


def _baseline(group, models):
    named = attr(group, "baseline_model") or attr(group, "baseline")
    if named is not None:
        for m in models:
            if m == str(named) or os.path.basename(str(named)).startswith(m):
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
                item[key] = _with_dims(labelled(ds), "model", "pass").values.astype(float)
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


def _rsa_table(g):
    """(Labelled correlation with dims brain × layer × pass, group holding it) or None."""
    ds = dataset(g, "correlation", "rsa", "r")
    if ds is not None:
        lab = labelled(ds)
        if "brain" not in lab.dims:
            lab = Labelled(lab.values[np.newaxis], ["brain"] + lab.dims,
                           dict(lab.coords, brain=np.array([attr(g, "brain", "brain")], dtype=object)))
        return _with_dims(lab, "brain", "layer", "pass"), ds
    return None


def read_rsa(f):
    """/<prefix>/rsa/correlation ([brain ×] layer × pass) with coordinates brain, layer, pass;
    CIs (read_ci); noise_ceiling_lower / noise_ceiling_upper ([brain] or scalars); attribute
    `comparison` (e.g. spearman)."""
    out = []
    for g in groups_named(f, "rsa"):
        found = _rsa_table(g)
        if found is None:
            continue
        lab, ds = found
        layers = [str(l) for l in lab.coord("layer")]
        order = [layers.index(l) for l in layer_order(layers)] \
            if lab.coords.get("layer") is not None else list(range(len(layers)))
        item = dict(name=prefix_of(g, "rsa"), path=g.name,
                    brains=[str(b) for b in lab.coord("brain")], layers=[layers[i] for i in order],
                    passes=[int(p) for p in lab.coord("pass")],
                    r=lab.values.astype(float)[:, order, :], comparison=attr(g, "comparison",
                                                                            attr(ds, "comparison")))
        ci = read_ci(g, ds.name.rsplit("/", 1)[-1], ds.shape)
        if ci is not None and ds.ndim == 3:
            item["ci"] = (ci[0][:, order, :], ci[1][:, order, :])
        ceil = []
        for key in ("noise_ceiling_lower", "noise_ceiling_upper"):
            v = value(g, key)
            if v is not None:
                v = np.broadcast_to(np.asarray(v, dtype=float).reshape(-1), (len(item["brains"]),)) \
                    if np.size(v) in (1, len(item["brains"])) else None
            ceil.append(v)
        if ceil[0] is not None and ceil[1] is not None:
            item["ceiling"] = ceil
        out.append(item)
    return out


def _category_of(ds, dim_index=0):
    """The category of each row of ds along its first dim: an aux coordinate named `category`
    next to the dataset or in an ancestor group, matching in length."""
    n = ds.shape[dim_index]
    g = ds.parent
    while True:
        for name in ("category", "categories"):
            v = aux_coordinate(g, name, n)
            if v is not None:
                return np.asarray([str(x) for x in v], dtype=object)
        if g.name == "/":
            return None
        g = g.parent


def read_rdms(f):
    """Every square RDM: datasets named `rdm` or `pass<k>` inside a group named `rdm`/`rdms`
    (/<prefix>/rsa/rdm/<layer>/pass<k> for models, /<prefix>/rsa/brain_rdm/<name> or
    rdms/<name> for brain data), each with its categories when a `category` coordinate of
    matching length sits next to it or in an ancestor."""
    rdms = []

    def visit(path, obj):
        if not isinstance(obj, h5py.Dataset) or obj.ndim != 2 or obj.shape[0] != obj.shape[1] \
                or obj.shape[0] < 3 or obj.dtype.kind != "f":
            return
        parts = path.split("/")
        if not any(p in ("rdm", "rdms", "brain_rdm", "brain_rdms") for p in parts[:-1]) \
                and parts[-1] != "rdm":
            return
        rdms.append(obj)

    f.visititems(visit)
    by_owner = {}
    for ds in rdms:
        parts = ds.name.strip("/").split("/")
        cut = next(i for i, p in enumerate(parts) if p in ("rsa", "rdm", "rdms", "brain_rdm",
                                                          "brain_rdms") or i == len(parts) - 1)
        owner = "/".join(parts[:cut])
        label = " ".join(p for p in parts[cut:] if p not in ("rsa", "rdm", "rdms"))
        label = label.replace("brain_rdms ", "").replace("brain_rdm ", "")
        m = re.search(r"pass(\d+)$", parts[-1])
        by_owner.setdefault(owner, []).append(dict(
            label=label, path=ds.name, rdm=np.asarray(ds[()], dtype=float),
            category=_category_of(ds), layer=parts[-2] if m else None,
            pass_index=int(m.group(1)) if m else None))
    return [dict(name=k, rdms=v) for k, v in by_owner.items()]


def read_encoding(f):
    """/<prefix>/encoding/score ([region ×] layer × pass): raw r, median over neuroids, mean over
    splits; score_error (same dims: std over splits / sqrt(splits)); ceiling ([region]);
    optional normalised scores named in the `normalisations` attribute or datasets
    `score_ceiled` / `ceiled_score`."""
    out = []
    for g in groups_named(f, "encoding"):
        ds = dataset(g, "score", "raw_score", "r")
        if ds is None:
            continue
        lab = labelled(ds)
        if "region" not in lab.dims:
            lab = Labelled(lab.values[np.newaxis], ["region"] + lab.dims,
                           dict(lab.coords, region=np.array([attr(g, "region", "neural data")],
                                                            dtype=object)))
        lab = _with_dims(lab, "region", "layer", "pass")
        layers = [str(l) for l in lab.coord("layer")]
        order = [layers.index(l) for l in layer_order(layers)]
        item = dict(name=prefix_of(g, "encoding"), path=g.name,
                    regions=[str(r) for r in lab.coord("region")], layers=[layers[i] for i in order],
                    passes=[int(p) for p in lab.coord("pass")], score=lab.values.astype(float)[:, order],
                    regression=attr(g, "regression"), simulated=attr(g, "simulated"))
        shape = lab.values.shape
        err = dataset(g, "score_error", "error", "sem")
        if err is not None and err.shape == ds.shape:
            item["error"] = _with_dims(_region_first(labelled(err), g), "region", "layer",
                                       "pass").values.astype(float)[:, order]
        c = value(g, "ceiling", "noise_ceiling")
        if c is not None and np.size(c) in (1, shape[0]):
            item["ceiling"] = np.broadcast_to(np.asarray(c, dtype=float).reshape(-1), (shape[0],))
        ceiled = dataset(g, "score_ceiled", "ceiled_score", "normalised_score")
        if ceiled is not None and ceiled.shape == ds.shape:
            item["ceiled"] = _with_dims(_region_first(labelled(ceiled), g), "region", "layer",
                                        "pass").values.astype(float)[:, order]
        out.append(item)
    return out


def _region_first(lab, g):
    if "region" in lab.dims:
        return lab
    return Labelled(lab.values[np.newaxis], ["region"] + lab.dims,
                    dict(lab.coords, region=np.array([attr(g, "region", "neural data")], dtype=object)))


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
