"""The suite's analyses on arrays. Each returns xarray objects named and dimensioned as the
command that computes it writes them to HDF5 (see the README's HDF5 layout)."""
import numpy as np

from . import _core
from ._labels import coord, in_range, is_xarray, rows, threads, unit_coords, values, xr


def localize(activations, categories=None, target="all", vs=None, test="student", fdr="by",
             q=0.05, ratio=None, threads=None):
    """Category-selective units, as `lrm localize`: for each target category, a unit is selective
    when its t-test against every other category (or those in `vs`) survives FDR control over the
    units with t > 0.

    activations: (stimulus, unit) or (stimulus, channel, y, x), float32 read in place when
    C-contiguous (float64 is converted); a DataArray may carry `category` on its stimulus dimension
    and unit, channel, y, x on its unit dimension. Returns the Dataset of /localizer/<layer>/
    pass<k>/<target> for one `target`, or a dict of them by target for "all" or a list."""
    data, unit_shape = rows(activations, "activations")
    if categories is None:
        categories = coord(activations, "category")
        if categories is None:
            raise ValueError("categories: needed (or a DataArray with a 'category' coordinate)")
    in_range("q", q, 0.0, 1.0)
    if ratio is not None and not ratio > 0:
        raise ValueError(f"ratio: must be positive, got {ratio}")
    targets = [] if target == "all" else [target] if isinstance(target, str) else list(target)
    result = _core.localize(data, [str(c) for c in np.asarray(categories)], targets,
                            list(vs or []), test, fdr, float(q), ratio, _threads(threads))
    units = unit_coords(activations, unit_shape, data.shape[1])
    out = {t["target"]: _target_dataset(t, result, units, test, fdr, q, ratio)
           for t in result["targets"]}
    return out[target] if isinstance(target, str) and target != "all" else out


_threads = threads


def _target_dataset(t, result, units, test, fdr, q, ratio):
    cu = ("comparison", "unit")
    data = {name: (cu, t[name]) for name in ("t", "p_adjusted", "rejected", "ratio") if name in t}
    data.update({name: ("unit", t[name]) for name in ("selective", "mean_t", "mean_p_adjusted")})
    data["n_positive_rejected"] = ("comparison", np.asarray(t["n_positive_rejected"]))
    data["n_undefined"] = ("comparison", np.asarray(t["n_undefined"]))
    data["n_images"] = ("category", np.asarray(result["n_images"], dtype=np.int64))
    if result["n_nonfinite"]:
        data["nonfinite"] = ("unit", result["nonfinite"])
    coords = dict(units, comparison=("comparison", t["comparison"]),
                  category=("category", result["category"]))
    attrs = {k: t[k] for k in ("target", "n_units", "n_images", "n_selective", "n_selective_ttest")}
    attrs["fraction_selective"] = t["n_selective"] / t["n_units"]
    attrs.update(test=test, fdr=fdr, q=q, n_nonfinite=result["n_nonfinite"],
                 n_units_nonfinite=result["n_units_nonfinite"])
    if ratio is not None:
        attrs["ratio"] = ratio
    return xr().Dataset(data, coords=coords, attrs=attrs)


def rdm(features, method="correlation", threads=None, overwrite_input=False, run=None,
        stimulus=None, noise="measurements"):
    """A representational dissimilarity matrix (stimulus, stimulus_b), as `lrm compare rsa
    --save-rdms` writes it: "correlation" (1 − Pearson), "euclidean" (squared distance / features),
    "crossvalidated-euclidean" (features (repetition, stimulus, feature)) or "crossnobis".
    Crossnobis takes features (run, stimulus, feature), or (measurement, feature) with `run` and
    `stimulus` labels per measurement (or those coordinates of a DataArray), and whitens by the
    noise precision `noise` ("measurements", "residuals" or "identity", as rsatoolbox's
    prec_from_measurements / prec_from_residuals). Correlation distance centres and scales the rows
    in place: with overwrite_input=True in a float32 C-contiguous array itself (no copy), else in
    a copy."""
    data = values(features)
    if method == "crossnobis":
        return _crossnobis(features, data, run, stimulus, noise, threads)
    if method not in ("crossvalidated", "crossvalidated-euclidean") and data.ndim > 2:
        data = data.reshape(data.shape[0], -1)
    m = _core.rdm(data, method, bool(overwrite_input), _threads(threads))
    ids = coord(features, "stimulus")
    coords = {} if ids is None else {"stimulus": ids, "stimulus_b": ids}
    return xr().DataArray(m, dims=("stimulus", "stimulus_b"), coords=coords, name="rdm",
                          attrs={"method": method})


def _crossnobis(features, data, run, stimulus, noise, threads):
    data = np.asarray(data, dtype=np.float64)
    if data.ndim == 3:
        runs, stimuli = data.shape[:2]
        run = np.repeat(np.arange(runs), stimuli)
        stimulus = np.tile(np.arange(stimuli), runs)
        data = data.reshape(runs * stimuli, -1)
    else:
        run = coord(features, "run") if run is None else run
        stimulus = coord(features, "stimulus") if stimulus is None else stimulus
        if run is None or stimulus is None:
            raise ValueError("features: crossnobis needs (run, stimulus, feature) features or run "
                             "and stimulus labels per measurement")
    ids, condition = np.unique(np.asarray(stimulus), return_inverse=True)
    _, run_code = np.unique(np.asarray(run), return_inverse=True)
    m = _core.crossnobis(data, condition.astype(np.int64).tolist(),
                         run_code.astype(np.int64).tolist(), noise, _threads(threads))
    return xr().DataArray(m, dims=("stimulus", "stimulus_b"),
                          coords={"stimulus": ids, "stimulus_b": ids}, name="rdm",
                          attrs={"method": "crossnobis", "noise_precision": noise})


def _rdm_stack(a, what):
    data = np.asarray(values(a), dtype=np.float64)
    if data.ndim == 2:
        return data[None], False
    if data.ndim != 3:
        raise ValueError(f"{what}: expected an RDM (stimulus, stimulus) or a stack of them")
    return data, True


def compare_rdms(a, b, comparison="spearman"):
    """Correlation of upper triangles ("spearman", "pearson", "kendall_tau_a", "kendall_tau_b",
    "rho_a", "cosine"). Two RDMs give a float; stacks give r over (model, brain_rdm), as /rsa/r."""
    sa, stacked_a = _rdm_stack(a, "a")
    sb, stacked_b = _rdm_stack(b, "b")
    r = _core.compare_rdms(sa, sb, comparison)
    if not stacked_a and not stacked_b:
        return float(r[0, 0])
    dims = [d for d, keep in (("model", stacked_a), ("brain_rdm", stacked_b)) if keep]
    return xr().DataArray(r.reshape([r.shape[i] for i, keep in
                                     enumerate((stacked_a, stacked_b)) if keep]),
                          dims=dims, name="r", attrs={"comparison": comparison})


def noise_ceiling(rdms, comparison="spearman", squared=False, pool="pooled"):
    """Noise ceiling over subjects' RDMs (brain_rdm, stimulus, stimulus): upper, each subject
    against the pool of all; lower, against the pool of the others (as /rsa's noise_ceiling_*).
    pool: "pooled" (rsatoolbox's pool_rdm: each RDM transformed as the comparison is invariant
    to, then averaged) or "mean"; `squared` squares each subject's r before the mean."""
    stack, _ = _rdm_stack(rdms, "rdms")
    nc = _core.noise_ceiling(stack, comparison, bool(squared), pool)
    data = {k: (("brain_rdm",) if k.endswith("per_rdm") else (), v) for k, v in nc.items()}
    return xr().Dataset(data, attrs={"comparison": comparison, "squared": int(bool(squared)),
                             "ceiling_pool": pool})


def encode(features, responses, regression="pls", splits=10, test_fraction=0.1,
           pls_components=25, seed=0, categories=None, ceiling=None, threads=None):
    """Brain-Score-style neural predictivity, as `lrm compare encode`: held-out Pearson r per split
    and neuroid of a regression ("pls", "ridge", "ols") from features (stimulus, feature; float32
    read in place) to responses.

    responses: (stimulus, neuroid) in the features' row order, or recordings as a DataArray
    (presentation, neuroid[, time_bin]) with a stimulus_id (image_id, stimulus) coordinate, which
    are averaged per stimulus (NaN skipped) and joined to the features' `stimulus` coordinate by
    id, as the command does. Splits are stratified by `categories` (default: the recordings' or
    the features' `category` coordinate). With `ceiling` (a number or ceiling()'s Dataset) the
    ceiled scores are added. Returns the Dataset of /encoding for one model."""
    data, _ = rows(features, "features")
    y, model_rows, neuroids, grouped = _responses(features, responses)
    if categories is None:
        categories = grouped or coord(features, "category")
    cats = [] if categories is None else [str(c) for c in np.asarray(categories)]
    p = _core.encode(data, y, model_rows, cats, regression, int(pls_components), int(splits),
                     float(test_fraction), int(seed), _threads(threads))
    ds = xr().Dataset({"r": (("split", "neuroid"), p["r"]),
                       **{k: ((), p[k]) for k in ("score_raw", "score_error",
                                                  "undefined_neuroids", "pls_components_used")}},
                      attrs={"regression": regression, "pls_components": int(pls_components),
                             "splits": int(splits), "test_fraction": float(test_fraction),
                             "stratified": int(bool(cats))})
    if neuroids is not None:
        ds = ds.assign_coords(neuroid=neuroids)
    if ceiling is not None:
        c = float(ceiling["ceiling"]) if is_xarray(ceiling) else float(ceiling)
        ds["ceiling"] = ((), c)
        for k, v in _core.ceil_score(p["score_raw"], c).items():
            ds[k] = ((), v)
    return ds


def _responses(features, responses):
    """Response rows, the feature row of each (empty: the same rows), neuroid ids, and the
    recordings' categories per joined stimulus (None without them)."""
    data, dims, coords, key = (_assembly(responses, None) if is_xarray(responses)
                               else (None, None, None, ""))
    if not key:
        return (np.asarray(values(responses), dtype=np.float64), [],
                coord(responses, "neuroid"), None)
    g = _core.group_responses(data, dims, coords, key, "")
    model_ids = coord(features, "stimulus")
    if model_ids is None:
        raise ValueError("features: recordings are joined by stimulus id; give features a "
                         "'stimulus' coordinate")
    model_rows, brain_rows, _ = _core.join_stimuli([str(i) for i in model_ids], g["stimulus"])
    categories = [g["category"][r] for r in brain_rows] if g["category"] else None
    return g["mean"][brain_rows], list(model_rows), np.asarray(g["neuroid"]), categories


_STIMULUS_COORDS = ("stimulus_id", "image_id", "stimulus")


def _assembly(responses, stimulus):
    """A labelled array as the core's assembly: data, dimension names, 1-D coordinates as text."""
    if is_xarray(responses):
        dims = [str(d) for d in responses.dims]
        coords = {str(k): (str(c.dims[0]), [str(v) for v in c.values])
                  for k, c in responses.coords.items() if c.ndim == 1}
        data = responses.values
    else:
        data = np.asarray(responses)
        if stimulus is None or data.ndim != 2:
            raise ValueError("responses: a (presentation, neuroid) array needs stimulus= (the "
                             "stimulus of each presentation), or pass a DataArray")
        dims, coords = ["presentation", "neuroid"], {}
    if stimulus is not None:
        coords["stimulus_id"] = (dims[0], [str(s) for s in np.asarray(stimulus)])
    key = next((c for c in _STIMULUS_COORDS if c in coords), "")
    return np.asarray(data, dtype=np.float64), dims, coords, key


def ceiling(responses, halvings=10, seed=0, stimulus=None, threads=None):
    """Internal-consistency ceiling of neural responses, as `lrm compare encode` computes it:
    repetitions of each stimulus split in random halves, Spearman–Brown corrected split-half r per
    neuroid, median over neuroids, mean over halvings. responses: a (presentation, neuroid)
    DataArray with a stimulus_id (or image_id, stimulus) coordinate, or an array with stimulus=."""
    data, dims, coords, key = _assembly(responses, stimulus)
    c = _core.ceiling(data, dims, coords, key, int(halvings), int(seed), _threads(threads))
    return xr().Dataset(
        {"ceiling": ((), c["ceiling"]),
         "ceiling_per_neuroid": ("neuroid", c["ceiling_per_neuroid"]),
         "ceiling_per_halving": ("halving", c["ceiling_per_halving"]),
         "repetitions": (("stimulus", "neuroid"), c["repetitions"].astype(np.int32))},
        coords={"stimulus": c["stimulus"], "neuroid": c["neuroid"]},
        attrs={"halvings": int(halvings), "missing_responses": c["missing_responses"],
               "time_bins_averaged": c["time_bins_averaged"],
               "undefined_neuroids": c["undefined_neuroids"]})


def signal_detection(hits, false_alarms, n_signal, n_noise, correction="log-linear"):
    """Signal-detection indices from counts, element-wise, as `lrm steer` scores each condition:
    hit and false-alarm rates, A′ (Grier) and A (Zhang & Mueller) from those rates, d′ and c
    from rates corrected by `correction` ("log-linear", "half-count", "none"). Labels (dims and
    coordinates) come from `hits` when it is a DataArray, else a 1-D input runs along
    "condition"."""
    h = np.asarray(values(hits))
    arrays = [np.broadcast_to(np.asarray(values(v)), h.shape)
              for v in (false_alarms, n_signal, n_noise)]
    for name, v in zip(("hits", "false_alarms", "n_signal", "n_noise"), [h] + arrays):
        if v.size and not np.array_equal(v, np.round(v)):
            raise ValueError(f"{name}: counts must be whole numbers")
    s = _core.signal_detection(h.astype(np.int64), *[a.astype(np.int64) for a in arrays],
                               correction)
    if is_xarray(hits):
        dims, coords = hits.dims, hits.coords
    else:
        dims, coords = (("condition",) if h.ndim == 1 else
                        tuple(f"dim_{i}" for i in range(h.ndim))), None
    ds = xr().Dataset({k: (dims, v) for k, v in s.items()}, coords=coords,
                      attrs={"correction": correction})
    for k in ("hit_rate", "false_alarm_rate", "a_prime"):
        ds[k].attrs["units"] = "1"
    ds["a_prime"].attrs["chance"] = "0.5"
    return ds
