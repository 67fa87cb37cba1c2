#!/usr/bin/python3
"""Category localizer: counts and fractions of selective units per layer, pass and category.

Reads `lrm localize` results: /<prefix>/localizer/summary (n_selective and n_units per layer,
pass and target). Usable alone:
    /usr/bin/python3 reports/localizer.py results.h5 --out figures/
"""
import sys

import matplotlib.pyplot as plt
import numpy as np

import lrm_results as R

KIND = "localizer"
TITLE = "Selective units per layer and pass"
ABSENT = "localizer (lrm localize: /localizer)"


def find(f):
    return R.read_localizer(f)


def plot(loc, out_dir, options=None):
    layers, passes, targets = loc["layers"], loc["passes"], loc["targets"]
    frac = np.full((len(passes), len(targets), len(layers)), np.nan)
    count = np.zeros_like(frac, dtype=int)
    for (layer, k, target), c in loc["cells"].items():
        i, j, l = passes.index(k), targets.index(target), layers.index(layer)
        frac[i, j, l], count[i, j, l] = 100 * c.fraction, c.count
    n = len(passes)
    panel_w = max(1.2, 0.32 * len(layers) + 0.5)
    panel_h = max(1.0, 0.16 * len(targets) + 0.7)
    stacked = n * panel_w + 0.6 > R.DOUBLE_COLUMN  # many layers: one pass per row
    nrow, ncol = (n, 1) if stacked else (1, n)
    fig, axes = plt.subplots(nrow, ncol, squeeze=False, constrained_layout=True,
                             figsize=(min(R.DOUBLE_COLUMN, ncol * panel_w + 0.6),
                                      nrow * panel_h + (0.4 if stacked else 0.2)))
    axes = axes.reshape(1, -1)
    vmax = max(1e-9, np.nanmax(frac))
    for i, k in enumerate(passes):
        ax = axes[0, i]
        im = ax.imshow(frac[i], cmap="viridis", vmin=0, vmax=vmax, aspect="auto")
        for j in range(len(targets)):
            for l in range(len(layers)):
                if np.isfinite(frac[i, j, l]):
                    light = frac[i, j, l] < 0.6 * vmax
                    v = frac[i, j, l]  # the number says what the colour shows; counts are in the table
                    ax.text(l, j, f"{v:.0f}" if v >= 10 else f"{v:.1f}", ha="center", va="center", fontsize=4.5,
                            color="white" if light else "black")
        ax.set_xticks(range(len(layers)))
        ax.set_xticklabels(layers, rotation=45, ha="right")
        ax.set_title(f"pass {k}")
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        if i == 0 or stacked:
            ax.set_yticks(range(len(targets)))
            ax.set_yticklabels(targets)
            ax.set_ylabel("Target category")
        else:
            ax.set_yticks([])
        if i == n - 1 or not stacked:
            ax.set_xlabel("Layer")
        else:
            ax.set_xticklabels([])
    cb = fig.colorbar(im, ax=axes[0, :].tolist(), shrink=0.9, aspect=15, pad=0.02)
    cb.set_label("Selective units (%)")
    cb.outline.set_visible(False)
    stem = R.save(fig, out_dir, R.slug(KIND, loc["name"]))
    crit = ", ".join(str(x) for x in [loc["test"] and f"{loc['test']} t-test",
                                      loc["fdr"] and f"{str(loc['fdr']).upper()} FDR",
                                      loc["q"] is not None and f"q = {loc['q']}"] if x)
    header = ["layer", "pass"] + [f"{t}: n (%)" for t in targets]
    rows = []
    for l, layer in enumerate(layers):
        for i, k in enumerate(passes):
            rows.append([layer, k] + [f"{count[i, j, l]} ({frac[i, j, l]:.2f})"
                                      if np.isfinite(frac[i, j, l]) else "—"
                                      for j in range(len(targets))])
    return R.Figure([stem], f"Units selective for each category (against every other category"
                    f"{'; ' + crit if crit else ''}) per layer and pass ({loc['path']}): colour = % of "
                    "the layer's units, number = count.",
                    [R.html_table(header, rows, "Selective units per layer, pass and category")])


if __name__ == "__main__":
    sys.exit(R.main(sys.modules[__name__]))
