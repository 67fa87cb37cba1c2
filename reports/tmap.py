#!/usr/bin/python3
"""Localizer t-map of one channel: the mean t (target vs the other categories) of every unit of a
feature-map channel, per pass, with the selective units marked.

Reads `lrm localize` results: /<prefix>/localizer/<layer>/pass<k>/<target>/{mean_t, selective} and the
unit coordinates channel, y, x. By default the first spatial layer, the target with the most
selective units there, and the channel with the most of them. Usable alone:
    /usr/bin/python3 reports/tmap.py results.h5 --out figures/ [--layer L --target T --channel C]
"""
import sys

import matplotlib.pyplot as plt
import numpy as np

import lrm_results as R

KIND = "tmap"
TITLE = "Localizer t-map of a channel"
ABSENT = "localizer with spatial layers (lrm localize: /localizer/<conv layer>)"


def add_arguments(p):
    p.add_argument("--layer", help="layer (default: the first with a spatial map)")
    p.add_argument("--target", help="target category (default: most selective units)")
    p.add_argument("--channel", type=int, help="channel (default: most selective units)")


def _spatial_layers(loc):
    """Layers with a feature map, judged on one cell each (reading every cell is slow for AlexNet)."""
    first = {}
    for (layer, _, _), cell in loc["cells"].items():
        first.setdefault(layer, cell)
    return [l for l in loc["layers"] if first[l].spatial()]


def find(f):
    return [loc for loc in R.read_localizer(f) if _spatial_layers(loc)]


def _choose(loc, options):
    cells, last = loc["cells"], loc["passes"][-1]
    layer = options.get("layer")
    if layer is None:
        layer = _spatial_layers(loc)[0]
    elif layer not in loc["layers"]:
        raise R.ResultsError(f"--layer {layer} is not in the localizer results "
                             f"({', '.join(loc['layers'])})")
    target = options.get("target")
    if target is not None and target not in loc["targets"]:
        raise R.ResultsError(f"--target {target} is not in the localizer results "
                             f"({', '.join(loc['targets'])})")
    if target is None:
        target = max(loc["targets"], key=lambda t: cells[(layer, last, t)].count
                     if (layer, last, t) in cells else -1)
    channel = options.get("channel")
    if channel is None:
        vals, mask, ch, _, _ = cells[(layer, last, target)].unit_map()
        sel = ch[mask] if mask is not None and mask.any() else ch[vals == np.nanmax(vals)]
        channel = int(np.bincount(sel.astype(int)).argmax())
    return layer, target, channel


def plot(loc, out_dir, options=None):
    options = options or {}
    layer, target, channel = _choose(loc, options)
    passes = [k for k in loc["passes"] if (layer, k, target) in loc["cells"]]
    maps, masks = [], []
    for k in passes:
        vals, mask, ch, y, x = loc["cells"][(layer, k, target)].unit_map()
        sel = ch == channel
        if not sel.any():
            raise R.ResultsError(f"layer {layer} has no channel {channel}")
        h, w = int(y[sel].max()) + 1, int(x[sel].max()) + 1
        m = np.full((h, w), np.nan)
        m[y[sel].astype(int), x[sel].astype(int)] = vals[sel]
        s = np.zeros((h, w), dtype=bool)
        if mask is not None:
            s[y[sel].astype(int), x[sel].astype(int)] = mask[sel]
        maps.append(m)
        masks.append(s)
    lim = max(1e-9, max(np.nanmax(np.abs(m)) for m in maps))
    n = len(passes)
    fig, axes = plt.subplots(1, n, figsize=(min(R.DOUBLE_COLUMN, 1.25 * n + 0.7), 1.45),
                             squeeze=False, constrained_layout=True)
    for i, k in enumerate(passes):
        ax = axes[0, i]
        im = ax.imshow(maps[i], cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        yy, xx = np.nonzero(masks[i])
        ax.scatter(xx, yy, s=3, c="k", marker="o", edgecolors="white", linewidths=0.3)
        ax.set_title(f"pass {k}")
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_visible(False)
    fig.suptitle(f"{layer}, channel {channel}, category {target}", fontsize=7)
    cb = fig.colorbar(im, ax=axes[0, :].tolist(), shrink=0.85, aspect=15, pad=0.02)
    cb.set_label(f"mean t ({target} vs others)")
    cb.outline.set_visible(False)
    stem = R.save(fig, out_dir, R.slug(KIND, loc["name"], layer, target, f"ch{channel}"))
    return R.Figure([stem], f"t-map of {layer} channel {channel} for category {target} "
                    f"({loc['path']}): mean t over the comparisons with every other category, per "
                    "unit of the feature map (y × x); dots: selective units.")


if __name__ == "__main__":
    sys.exit(R.main(sys.modules[__name__]))
