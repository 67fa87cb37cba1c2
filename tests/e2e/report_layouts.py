"""Small results files in the suite's HDF5 layouts, written with h5py, for the report tests.

Each writer mimics what one lrm command writes (see README.md, "HDF5 layout"): labelled arrays
with dimension scales and coordinates, `units` on rates, provenance attributes at the root.
"""
import h5py
import numpy as np

BARE = "This is a netCDF dimension but not a netCDF variable.{:10d}"


def provenance(f, command="lrm test"):
    f.attrs.update(dict(lrm_version="0.1.0", git_commit="abc123", command_line=command,
                        config="name = 'test'\n", seed=1, start_time="2026-01-01T00:00:00Z",
                        end_time="2026-01-01T00:01:00Z", host="testhost", complete=1))


def coordinate(g, dim, values):
    if dim in g:
        return g[dim]
    values = np.asarray(values)
    if values.dtype.kind in "UO":
        ds = g.create_dataset(dim, data=np.array(values, dtype=object),
                              dtype=h5py.string_dtype())
    else:
        ds = g.create_dataset(dim, data=values)
    ds.make_scale(dim)
    return ds


def array(g, name, data, dims, coords=None, **attrs):
    """Writes `data` with named dims; coords maps dim -> values (others become bare dims)."""
    data = np.asarray(data)
    ds = g.create_dataset(name, data=data)
    for i, dim in enumerate(dims):
        if coords and dim in coords:
            scale = coordinate(g, dim, coords[dim])
        elif dim in g:
            scale = g[dim]
        else:
            scale = g.create_dataset(dim, data=np.zeros(data.shape[i], dtype="f4"))
            scale.make_scale(BARE.format(data.shape[i]))
        ds.dims[i].attach_scale(scale)
    ds.attrs.update(attrs)
    return ds


MODELS = ("runs/mnist-lrm.pt", "runs/mnist-lrm-additive.pt", "runs/mnist-ff.pt")  # last: no feedback


def write_evaluation(root, models=MODELS, passes=2, seed=0):
    """As lrm evaluate: /evaluation/top1, top5 (model × pass), model = checkpoint paths."""
    rng = np.random.default_rng(seed)
    g = root.require_group("evaluation")
    top1 = np.clip(0.96 + 0.01 * np.arange(passes)[None, :] + rng.normal(0, 0.005, (len(models), passes)), 0, 1)
    top1[-1, :] = top1[-1, 0]
    coords = dict(model=list(models), **{"pass": np.arange(passes)})
    array(g, "top1", top1, ["model", "pass"], coords, units="1")
    array(g, "top5", np.minimum(top1 + 0.02, 1), ["model", "pass"], coords, units="1")
    g.attrs["baseline"] = models[-1]


def write_robustness(root, models=MODELS, passes=2, seed=0):
    """As lrm robustness: /robustness/accuracy (model × epsilon × pass), auc, auc_change_percent."""
    rng = np.random.default_rng(seed)
    g = root.require_group("robustness")
    eps = np.array([0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3])
    acc = np.empty((len(models), len(eps), passes))
    for m in range(len(models)):
        for k in range(passes):
            slope = 6 - (0 if m == len(models) - 1 else 1.5 * k + 0.5 * m)
            acc[m, :, k] = 0.97 * np.exp(-slope * eps) + rng.normal(0, 0.005, len(eps))
    acc[-1, :, :] = acc[-1, :, :1]
    acc = np.clip(acc, 0, 1)
    coords = {"model": list(models), "epsilon": eps, "pass": np.arange(passes)}
    array(g, "accuracy", acc, ["model", "epsilon", "pass"], coords, units="1")
    auc = np.trapz(acc, eps, axis=1) / (eps[-1] - eps[0])
    array(g, "auc", auc, ["model", "pass"], units="1")
    array(g, "auc_change_percent", 100 * (auc / auc[-1:, :1] - 1), ["model", "pass"], units="%")
    g.attrs["baseline"] = models[-1]
    g.attrs["attack_pass"] = 1


def write_localizer(root, layers=(("conv1", (8, 10, 10)), ("conv2", (16, 5, 5)), ("fc1", (64,))),
                    targets=("0", "1", "2"), passes=2, seed=0):
    """As lrm localize: /localizer/<layer>/pass<k>/<target>/{selective, mean_t, t, ...}, the unit
    coordinates in the pass group with hard links in each target group, and /localizer/summary."""
    rng = np.random.default_rng(seed)
    g = root.require_group("localizer")
    g.attrs.update(test="student", fdr="by", q=0.05)
    rows = []
    for depth, (layer, shape) in enumerate(layers):
        n = int(np.prod(shape))
        ch, y, x = np.unravel_index(np.arange(n), shape if len(shape) == 3 else (n, 1, 1))
        for k in range(passes):
            pg = g.require_group(f"{layer}/pass{k}")
            pg.attrs.update(layer=layer, **{"pass": k})
            coordinate(pg, "category", np.array(targets, dtype=object))
            coordinate(pg, "unit", np.arange(n))
            positions = ["channel", "y", "x"] if len(shape) == 3 else []
            for name, v in zip(positions, [ch, y, x]):
                array(pg, name, v.astype("i8"), ["unit"])
            for t, target in enumerate(targets):
                tg = pg.require_group(target)
                for name in ["unit"] + positions:
                    tg[name] = pg[name]  # a hard link, as lrm localize writes
                aux = dict(coordinates=" ".join(positions)) if positions else {}
                others = [o for o in targets if o != target]
                coordinate(tg, "comparison", np.array(others, dtype=object))
                mean_t = rng.normal(0, 2, n) + (depth + k) * 0.8 * (np.arange(n) % len(targets) == t)
                mask = mean_t > 3
                array(tg, "t", np.tile(mean_t, (len(others), 1)), ["comparison", "unit"], **aux)
                array(tg, "selective", mask.astype("u1"), ["unit"], **aux)
                array(tg, "mean_t", mean_t, ["unit"], **aux)
                tg.attrs.update(target=target, n_units=n, n_images=20, n_selective=int(mask.sum()),
                                fraction_selective=float(mask.mean()))
                rows.append((layer, target, k, n, int(mask.sum())))
    s = g.require_group("summary")
    layer, target, k, n, count = zip(*rows)
    array(s, "layer", np.array(layer, dtype=object), ["row"])
    array(s, "target", np.array(target, dtype=object), ["row"])
    for name, v in [("pass", k), ("n_units", n), ("n_selective", count)]:
        array(s, name, np.array(v, dtype="i8"), ["row"])
    array(s, "fraction_selective", np.array(count) / np.array(n), ["row"])


def write_attention(root, categories=("3", "7"), seed=0):
    rng = np.random.default_rng(seed)
    g = root.require_group("attention")
    base = np.array([[1.0, 0.6], [0.5, 0.9]]) + rng.normal(0, 0.02, (2, 2))
    coords = {"unit_type": list(categories), "attended": list(categories)}
    array(g, "mean_activation", base, ["unit_type", "attended"], coords)
    array(g, "mean_activation_ci", np.stack([base - 0.05, base + 0.05], -1),
          ["unit_type", "attended", "bound"], {"bound": ["low", "high"]})
    array(g, "modulation_index", np.array([0.25, 0.28]), ["unit_type"])
    array(g, "p", np.array([1e-5, 3e-4]), ["unit_type"])
    array(g, "n_units", np.array([40, 25]), ["unit_type"])
    array(g, "mean_unsteered_activation", base.mean(axis=1), ["unit_type"])
    g.attrs.update(layer="conv2", alpha=3.0, **{"pass": 1})


def _models(g, layers, passes):
    labels = [f"{l}/pass{k}" for l in layers for k in range(passes)]
    coordinate(g, "model", np.array(labels, dtype=object))
    array(g, "layer", np.array([l for l in layers for _ in range(passes)], dtype=object), ["model"])
    array(g, "pass", np.array([k for _ in layers for k in range(passes)], dtype="i8"), ["model"])
    return len(labels)


def write_rsa(root, layers=("conv1", "conv2", "fc1", "fc2"), subjects=4, passes=2, n=12,
              categories=("animate", "inanimate", "face"), seed=0, ceiling=True, brain="human_it.mat"):
    """As lrm compare rsa --save-rdms: /rsa with r_mean etc. per (layer, pass) model."""
    rng = np.random.default_rng(seed)
    g = root.require_group("rsa")
    g.attrs.update(brain=brain, comparison="spearman", model_rdm="correlation", squared=0,
                   bootstrap_resamples=100)
    coordinate(g, "brain_rdm", np.array([f"subject{i + 1}" for i in range(subjects)], dtype=object))
    m = _models(g, layers, passes)
    r = rng.uniform(0.05, 0.3, (m, subjects))
    attrs = dict(coordinates="layer pass")
    array(g, "r", r, ["model", "brain_rdm"], **attrs)
    attrs["units"] = "1"
    array(g, "r_mean", r.mean(1), ["model"], **attrs)
    array(g, "ci_subjects_low", r.mean(1) - 0.04, ["model"], **attrs)
    array(g, "ci_subjects_high", r.mean(1) + 0.04, ["model"], **attrs)
    if ceiling:
        g.create_dataset("noise_ceiling_lower", data=0.35)
        g.create_dataset("noise_ceiling_upper", data=0.5)
    ids = np.array([f"img{i}" for i in range(n)], dtype=object)
    coordinate(g, "stimulus", ids)
    cat = np.array([categories[i % len(categories)] for i in range(n)], dtype=object)
    for layer in layers:
        lg = g.require_group(f"model_rdm/{layer}")
        coordinate(lg, "stimulus", ids)
        for k in range(passes):
            x = rng.normal(size=(n, 8))
            x[np.arange(n), [categories.index(c) for c in cat]] += 3 + k  # category structure
            array(lg, f"pass{k}", 1 - np.corrcoef(x), ["stimulus", "stimulus_b"])
    array(g, "brain_rdm_mean", 1 - np.corrcoef(rng.normal(size=(n, 5))), ["stimulus", "stimulus_b"])
    # The stimuli with their categories, as a merged stimulus set or activation file holds them.
    sg = root.require_group("stimuli_of_rsa")
    coordinate(sg, "stimulus", ids)
    array(sg, "category", cat, ["stimulus"])


def write_encoding(root, layers=("conv1", "conv2", "fc1"), passes=2, seed=0, ceiling=0.7,
                   brain="v4.nc", simulated=False, voxels=None):
    """As lrm compare encode: /encoding with score_raw etc. per (layer, pass) model; with a grid
    shape `voxels`, as on NIfTI betas: r (model, split, neuroid) over voxels "i_j_k" of it."""
    rng = np.random.default_rng(seed)
    g = root.require_group("encoding")
    g.attrs.update(brain=brain, regression="pls", splits=10)
    if simulated:
        g.attrs.update(simulated="1", true_ceiling=ceiling + 0.02)
    m = _models(g, layers, passes)
    s = rng.uniform(0.2, 0.5, m)
    attrs = dict(coordinates="layer pass", units="1")
    array(g, "score_raw", s, ["model"], **attrs)
    array(g, "score_error", np.full(m, 0.02), ["model"], **attrs)
    array(g, "score_ceiled", s / ceiling, ["model"], **attrs)
    g.create_dataset("ceiling", data=ceiling)
    if voxels:
        ijk = [(i, j, k) for k in range(voxels[2]) for j in range(voxels[1]) for i in range(voxels[0])
               if (i + j + k) % 4]  # a sparse "ROI"
        coordinate(g, "neuroid", np.array([f"{i}_{j}_{k}" for i, j, k in ijk], dtype=object))
        coordinate(g, "split", np.arange(2))
        array(g, "r", rng.uniform(-0.2, 0.8, (m, 2, len(ijk))), ["model", "split", "neuroid"])


def write_steering(root, composite="overlay", types=("one-hot", "instance", "prototype"),
                   alphas=(1, 2, 3, 4, 5), additive=False, seed=0, single_image_accuracy=0.98):
    """As lrm steer: /steering with per-condition rates, CIs, A′ and mean outputs."""
    rng = np.random.default_rng(seed)
    g = root.require_group("steering")
    g.attrs.update(composite=composite, passes=2, readout_pass=1, level=0.95, source="output")
    if single_image_accuracy is not None:
        g.attrs["single_image_accuracy"] = single_image_accuracy
    names, tlist, alist, plist = ["pass0", "pass1"], ["none", "none"], [0.0, 0.0], [0, 1]
    for t in types:
        for a in alphas:
            names.append(f"{t} alpha={a:g}")
            tlist.append(t), alist.append(float(a)), plist.append(1)
    n = len(names)
    coordinate(g, "condition", np.array(names, dtype=object))
    array(g, "steering_type", np.array(tlist, dtype=object), ["condition"])
    array(g, "pass", np.array(plist, dtype="i8"), ["condition"])
    array(g, "alpha", np.array(alist), ["condition"])
    coordinate(g, "bound", np.array(["low", "high"], dtype=object))
    a = np.array(alist)
    hit = np.clip(0.45 + 0.08 * a + rng.normal(0, 0.02, n), 0, 1)
    fa = np.clip(0.02 + (0.08 if additive else 0.03) * a + rng.normal(0, 0.01, n), 0, 1)
    hit[:2] = [0.42, 0.45]
    fa[:2] = [0.01, 0.01]
    aux = dict(coordinates="steering_type alpha pass", units="1")
    for name, v in [("hit_rate", hit), ("false_alarm_rate", fa)]:
        array(g, name, v, ["condition"], **aux)
        array(g, name + "_ci", np.stack([v - 0.04, v + 0.04], -1), ["condition", "bound"], **aux)
    h, fr = hit, fa
    ap = np.where(h >= fr, 0.5 + (h - fr) * (1 + h - fr) / (4 * h * (1 - fr) + 1e-12), 0.5)
    array(g, "a_prime", ap, ["condition"], chance="0.5", **aux)
    array(g, "a_prime_ci", np.stack([ap - 0.03, ap + 0.03], -1), ["condition", "bound"],
          chance="0.5", **aux)
    aux["units"] = "logit"
    roles = ["target1", "target2", "absent"]
    coordinate(g, "steer_toward", np.array(roles, dtype=object))
    coordinate(g, "output_of", np.array(roles, dtype=object))
    out = rng.uniform(0, 2, (n, 3, 3)) + 3 * a[:, None, None] * np.eye(3)[None]
    array(g, "mean_output", out, ["condition", "steer_toward", "output_of"], **aux)
    array(g, "mean_output_ci", np.stack([out - 0.3, out + 0.3], -1),
          ["condition", "steer_toward", "output_of", "bound"], **aux)
