"""Figure content checks for the report tests: the data each figure plots (read back from the
figure by the report into <stem>.json) against the arrays of the results file, read here with
xarray on their own. Each check returns a list of problems (empty when the figure shows the
file's values)."""
import glob
import json
import os
import re

import h5netcdf
import numpy as np
import xarray as xr


def load(folder, stem):
    with open(os.path.join(folder, stem + ".json"), encoding="utf-8") as h:
        return json.load(h)


def all_groups(path):
    """Paths of every group in the file (walked with h5netcdf), sorted."""
    out = []
    with h5netcdf.File(path, "r") as f:
        stack = [f]
        while stack:
            g = stack.pop()
            out.append(g.name)
            stack.extend(g.groups.values())
    return sorted(out)


def group_paths(path, name):
    """Paths of every group called `name` in the file."""
    return [g for g in all_groups(path) if g.rsplit("/", 1)[-1] == name]


def open_group(path, group):
    return xr.open_dataset(path, group=group, engine="h5netcdf").load()


def analyses(path, name, variable):
    """Datasets of the groups called `name` that hold `variable` (not /provenance/<stage>)."""
    return [ds for ds in (open_group(path, g) for g in group_paths(path, name)) if variable in ds]


def near(plotted, expected, tol=1e-4):
    a = np.array([np.nan if v is None else v for v in np.ravel(np.array(plotted, dtype=object))],
                 dtype=float)
    b = np.ravel(np.asarray(expected, dtype=float))
    return a.shape == b.shape and np.allclose(a, b, rtol=tol, atol=tol, equal_nan=True)


def to_percent(da):
    return np.asarray(da.values, dtype=float) * (100 if da.attrs["units"] == "1" else 1)


def check_accuracy(fig, ds):
    """Each model's line is its top-1 accuracy in % per pass; the baseline is a flat line."""
    problems = []
    lines = {l["label"]: l for l in fig["axes"][0]["lines"]}
    top1 = to_percent(ds["top1"].transpose("model", "pass"))
    for m, model in enumerate(ds["model"].values):
        name = os.path.splitext(os.path.basename(str(model)))[0]
        line = lines.get(name) or lines.get(f"{name} (baseline)")
        if line is None:
            problems.append(f"no line for {name}")
        elif name + " (baseline)" in lines:
            if not near(line["y"], [top1[m].mean()] * 2):
                problems.append(f"baseline {name} at {line['y']}, not {top1[m].mean()}")
        elif not near(line["y"], top1[m]):
            problems.append(f"{name}: plotted {line['y']}, file {top1[m]}")
    return problems


def check_robustness(fig, ds):
    """Accuracy-ε lines per model and pass (in %), then ΔAUC bars per pass."""
    acc = to_percent(ds["accuracy"].transpose("model", "epsilon", "pass"))
    baseline = str(ds.attrs.get("baseline", ""))
    models = [str(m) for m in ds["model"].values]
    expected = []
    for m, model in enumerate(models):
        expected += [acc[m, :, 0]] if model == baseline else \
            [acc[m, :, k] for k in range(acc.shape[2])]
    lines = [l["y"] for l in fig["axes"][0]["lines"]]
    problems = [] if len(lines) == len(expected) and all(near(a, b) for a, b in
                                                         zip(lines, expected)) else \
        [f"accuracy lines {lines} are not the file's {[list(e) for e in expected]}"]
    if len(fig["axes"]) > 1:
        change = ds["auc_change_percent"].transpose("model", "pass").values
        others = [m for m, model in enumerate(models) if model != baseline]
        bars = [h for b in fig["axes"][1]["bars"] for h in b["height"]]
        want = [change[m, k] for k in range(change.shape[1]) for m in others]
        if not near(bars, want):
            problems.append(f"ΔAUC bars {bars}, file {want}")
    return problems


def _steering_index(ds, steering_type, alpha=None, pass_index=None):
    for i, (t, a, k) in enumerate(zip(ds["steering_type"].values, ds["alpha"].values,
                                      ds["pass"].values)):
        if str(t) == steering_type and (alpha is None or np.isclose(a, alpha)) and \
                (pass_index is None or k == pass_index):
            return i
    return None


def check_composite_panel(ax, ds, alpha=3.0):
    """Bars of one composite panel: hit and false-alarm rate (%) of pass 0, the last pass and each
    steering type at α; the single-image accuracy line."""
    types = list(dict.fromkeys(str(t) for t in ds["steering_type"].values if str(t) != "none"))
    last = int(ds["pass"].values.max())
    conds = [_steering_index(ds, "none", pass_index=0), _steering_index(ds, "none",
                                                                        pass_index=last)]
    conds += [_steering_index(ds, t, alpha) for t in types]
    want = []
    for c in conds:
        want += [to_percent(ds["hit_rate"])[c], to_percent(ds["false_alarm_rate"])[c]]
    bars = [b["height"][0] for b in ax["bars"]]
    problems = [] if near(bars, want) else [f"{ax['title']}: bars {bars}, file {want}"]
    acc = 100 * float(ds.attrs["single_image_accuracy"])
    if not any(near(l["y"], [acc, acc]) for l in ax["lines"]):
        problems.append(f"{ax['title']}: no single-image accuracy line at {acc}")
    return problems


def check_target_outputs(fig, ds, alpha=3.0):
    """Bars per panel: the mean output of each role, unsteered (pass 0, last pass) and steered
    toward each role at α."""
    out = ds["mean_output"].transpose("condition", "steer_toward", "output_of").values
    panels = fig["axes"]
    last = int(ds["pass"].values.max())
    want = [out[_steering_index(ds, "none", pass_index=k), 0] for k in sorted({0, last})]
    problems = []
    got = [b["height"][0] for b in panels[0]["bars"]]
    if not near(got, np.concatenate(want)):
        problems.append(f"unsteered bars {got}, file {np.concatenate(want)}")
    for ax in panels[1:]:
        steering_type = ax["title"].split(",")[0]
        c = _steering_index(ds, steering_type, alpha)
        got = [b["height"][0] for b in ax["bars"]]
        if c is None or not near(got, out[c].ravel()):
            problems.append(f"{ax['title']}: bars {got}, file {None if c is None else out[c]}")
    if panels[0]["ylabel"] != f"Mean output ({ds['mean_output'].attrs['units']})":
        problems.append(f"y label {panels[0]['ylabel']!r} does not give the units")
    return problems


def check_gain_sweep_panel(ax, groups, steering_type):
    """Every line of a panel is A′ against α of this steering type in one steering group, but
    the chance line at a_prime's `chance` attribute."""
    series, chances = [], set()
    for ds in groups:
        idx = [i for i, t in enumerate(ds["steering_type"].values) if str(t) == steering_type]
        idx.sort(key=lambda i: ds["alpha"].values[i])
        series.append((ds["alpha"].values[idx], ds["a_prime"].values[idx]))
        chances.add(float(ds["a_prime"].attrs["chance"]))
    problems = []
    for line in ax["lines"]:
        if line["x"] == [0, 1] and len(set(line["y"])) == 1 and line["y"][0] in chances:
            continue
        if not any(near(line["x"], x) and near(line["y"], y) for x, y in series):
            problems.append(f"{steering_type}: line {line['label']} ({line['y']} at α {line['x']}) "
                            "is no steering group's A′")
    if not any(line["x"] == [0, 1] and line["y"][0] in chances for line in ax["lines"]):
        problems.append(f"{steering_type}: no chance line at {chances}")
    return problems


def check_localizer(fig, summary):
    """One image per pass: % selective units, targets × layers, from the summary table."""
    layers = [str(v) for v in summary["layer"].values]
    targets = [str(v) for v in summary["target"].values]
    passes = [int(v) for v in summary["pass"].values]
    frac = 100 * summary["n_selective"].values / summary["n_units"].values
    images = [ax["images"][0] for ax in fig["axes"] if ax["images"]]
    problems = []
    for i, k in enumerate(sorted(set(passes))):
        img = np.array(images[i], dtype=float)
        got = sorted(img.ravel().tolist())
        want = sorted(f for f, p in zip(frac, passes) if p == k)
        if not near(got, want):
            problems.append(f"pass {k}: image values {got}, file {want}")
        if img.shape != (len(set(targets)), len(set(layers))):
            problems.append(f"pass {k}: image shape {img.shape}")
    return problems


def check_tmap(fig, path, localizer_group):
    """Each pass's image is the channel's mean t map of the title's layer and category."""
    layer, channel, target = fig["suptitle"].split(", ")
    channel, target = int(channel.split()[-1]), target.split()[-1]
    problems = []
    images = [(ax["title"], ax["images"][0]) for ax in fig["axes"] if ax["images"]]
    for title, img in images:
        k = int(title.split()[-1])
        ds = open_group(path, f"{localizer_group}/{layer}/pass{k}/{target}")
        sel = ds["channel"].values == channel
        y, x = ds["y"].values[sel], ds["x"].values[sel]
        want = np.full((y.max() + 1, x.max() + 1), np.nan)
        want[y, x] = ds["mean_t"].values[sel]
        if not near(img, want):
            problems.append(f"{title}: t-map differs from {layer}/pass{k}/{target} channel {channel}")
    return problems


def check_attention(fig, ds):
    """Bars per attended category: mean activation per unit type, error bars the CI."""
    v = ds["mean_activation"].transpose("unit_type", "attended").values
    ci = ds["mean_activation_ci"].transpose("unit_type", "attended", "bound")
    problems = []
    for j, bar in enumerate(fig["axes"][0]["bars"]):
        if not near(bar["height"], v[:, j]):
            problems.append(f"attend {j}: bars {bar['height']}, file {v[:, j]}")
        if not (near(bar["low"], ci.sel(bound="low").values[:, j])
                and near(bar["high"], ci.sel(bound="high").values[:, j])):
            problems.append(f"attend {j}: error bars are not the CI")
    return problems


def _per_layer_pass(ds, name):
    layers = [str(v) for v in ds["layer"].values]
    passes = [int(v) for v in ds["pass"].values]
    return {(l, k): v for l, k, v in zip(layers, passes, ds[name].values)}


def check_layer_pass_panel(ax, ds, name, ceiling=None):
    """Error-bar series per pass over the layers (x tick labels) hold `name` per layer and pass."""
    table = _per_layer_pass(ds, name)
    layers = ax["xticklabels"]
    passes = sorted({k for _, k in table})
    problems = []
    for series, k in zip(ax["errorbars"], passes):
        want = [table.get((l, k), np.nan) for l in layers]
        if not near(series["y"], want):
            problems.append(f"{ax['title']} pass {k}: plotted {series['y']}, file {want}")
    if len(ax["errorbars"]) != len(passes):
        problems.append(f"{ax['title']}: {len(ax['errorbars'])} series for {len(passes)} passes")
    if ceiling is not None and not any(near(l["y"], [ceiling, ceiling]) for l in ax["lines"]):
        problems.append(f"{ax['title']}: no ceiling line at {ceiling}")
    return problems


def check_rdm_image(img, rdm):
    """An RDM image holds the RDM's dissimilarities as percentiles (in some stimulus order)."""
    from scipy.stats import rankdata
    n = rdm.shape[0]
    iu = np.triu_indices(n, 1)
    want = np.sort(100 * (rankdata(rdm[iu]) - 1) / max(1, len(iu[0]) - 1))
    img = np.array(img, dtype=float)
    return img.shape == (n, n) and near(np.sort(img[iu]), want) and near(img, img.T)


def brain_maps(path):
    """{label: (voxel volume, its first index in the grid)} of every per-voxel map that
    reports/brain.py draws: r per model (mean over splits) of /encoding over voxels "i_j_k", and
    the r and each group's log10 penalty (mean over splits) of /banded; the volume is the whole
    grid where the group records grid_shape, else cropped to the voxels' box."""
    def grid(ds):
        return [int(n) for n in np.ravel(ds.attrs["grid_shape"])] if "grid_shape" in ds.attrs else None

    def crop(ids, values, shape):
        ijk = np.array([[int(p) for p in str(i).split("_")] for i in ids])
        low = np.zeros(3, dtype=int) if shape else ijk.min(0)
        vol = np.full(shape or ijk.max(0) - low + 1, np.nan)
        vol[tuple((ijk - low).T)] = values
        return vol, low

    def voxels(ds):
        return all(len(str(i).split("_")) == 3 and str(i).replace("_", "").isdigit()
                   for i in ds["neuroid"].values)
    out = {}
    for ds in analyses(path, "encoding", "r"):
        if voxels(ds):
            r = ds["r"].transpose("model", "split", "neuroid").values
            for m, model in enumerate(ds["model"].values):
                out[str(model)] = crop(ds["neuroid"].values, np.nanmean(r[m], axis=0), grid(ds))
    for ds in analyses(path, "banded", "penalty"):
        if voxels(ds):
            groups = [str(g) for g in ds["group"].values]
            out["banded " + " + ".join(groups)] = crop(
                ds["neuroid"].values, np.nanmean(ds["r"].transpose("split", "neuroid").values, 0),
                grid(ds))
            pen = np.log10(ds["penalty"].transpose("split", "group", "neuroid").values).mean(0)
            for g, group in enumerate(groups):
                out[group + " log10 penalty"] = crop(ds["neuroid"].values, pen[g], grid(ds))
    return out


def check_brain(fig, path):
    """Each panel shows its map (named by the panel's y label, or in world mm, where the y label
    names the axis, by its text): slice "k = K" (in world mm "z = Z mm (k = K)") is the map at
    grid index k = K (rows j, columns i); "<view> (max)" the maximum along i, j or k."""
    maps, problems = brain_maps(path), []
    views = {"sagittal (max)": 0, "coronal (max)": 1, "axial (max)": 2}
    for ax in fig["axes"]:
        if not ax["images"]:
            continue
        label = " ".join((ax["texts"][0] if ax["texts"] else ax["ylabel"]).split())
        if label not in maps:
            problems.append(f"panel {label!r} is no map of the file")
            continue
        vol, low = maps[label]
        slice_k = re.search(r"\bk = (\d+)", ax["title"])
        if slice_k:
            want = vol[:, :, int(slice_k.group(1)) - low[2]].T
        elif ax["title"] in views:
            a = views[ax["title"]]
            with np.errstate(invalid="ignore"):
                want = np.where(np.isfinite(vol).any(a),
                                np.nanmax(np.where(np.isfinite(vol), vol, -np.inf), a), np.nan).T
        else:
            problems.append(f"{label}: unknown panel {ax['title']!r}")
            continue
        if not near(ax["images"][-1], want):
            problems.append(f"{label} {ax['title']}: image is not the file's map")
    return problems


def check_report(folder, path):
    """Every figure of a report folder against the results file; {stem: problems}."""
    stems = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(folder, "*.json")))
    problems = {}

    def add(stem, found):
        if found:
            problems.setdefault(stem, []).extend(found)

    steering = analyses(path, "steering", "mean_output")
    localizers = [g for g in group_paths(path, "localizer") if g + "/summary" in all_groups(path)]
    for stem in stems:
        fig = load(folder, stem)
        kind = stem.split("-")[0]
        if kind == "accuracy":
            for ds in analyses(path, "evaluation", "top1"):
                add(stem, check_accuracy(fig, ds))
        elif kind == "robustness":
            for ds in analyses(path, "robustness", "accuracy"):
                add(stem, check_robustness(fig, ds))
        elif kind == "composite":
            for ax in fig["axes"]:
                found = [check_composite_panel(ax, ds) for ds in steering
                         if ds.attrs["composite"] == ax["title"] and "hit_rate" in ds]
                add(stem, min(found, key=len) if found else [f"no steering for {ax['title']}"])
        elif kind == "target_outputs":
            found = [check_target_outputs(fig, ds) for ds in steering]
            add(stem, min(found, key=len) if found else ["no steering group"])
        elif kind == "gain_sweep":
            types = [a["title"] for a in fig["axes"] if a["title"]]  # the first row's titles
            for i, ax in enumerate(fig["axes"]):
                col = i % len(types)
                add(stem, check_gain_sweep_panel(ax, [ds for ds in steering
                                                      if "a_prime" in ds], types[col]))
        elif kind == "localizer":
            for g in localizers:
                add(stem, check_localizer(fig, open_group(path, g + "/summary")))
        elif kind == "tmap":
            for g in localizers:
                add(stem, check_tmap(fig, path, g))
        elif kind == "attention":
            for ds in analyses(path, "attention", "mean_activation"):
                add(stem, check_attention(fig, ds))
        elif kind in ("rsa", "encoding"):
            name, ceiling = ("r_mean", None) if kind == "rsa" else ("score_raw", "ceiling")
            groups = analyses(path, kind, name)
            panels = [ax for ax in fig["axes"] if ax["errorbars"]]
            for ax, ds in zip(panels, groups):
                add(stem, check_layer_pass_panel(ax, ds, name, float(ds[ceiling])
                                                 if ceiling else None))
            if len(panels) != len(groups):
                add(stem, [f"{len(panels)} panels for {len(groups)} {kind} groups"])
        elif kind == "brain":
            add(stem, check_brain(fig, path))
        elif kind == "rdm":
            rdms = []
            for g in group_paths(path, "rsa"):
                ds = open_group(path, g)
                for layer in all_groups(path):
                    if layer.startswith(g + "/model_rdm/"):
                        lds = open_group(path, layer)
                        rdms += [lds[v].values for v in lds.data_vars]
                if "brain_rdm_mean" in ds:
                    rdms.append(ds["brain_rdm_mean"].values)
            for ax in fig["axes"]:
                for img in ax["images"]:
                    if not any(check_rdm_image(img, r) for r in rdms):
                        add(stem, [f"{ax['title']}: image is no RDM of the file"])
    return problems

