#!/usr/bin/python3
"""Encoding (Brain-Score-style neural predictivity): score per layer and pass with the
internal-consistency ceiling, one panel per region; the paper's Table 1 (pass 0 vs pass 1 per
region) as an HTML table.

Reads `lrm compare encode` results: /<prefix>/encoding/score (region × layer × pass),
score_error, ceiling (region), score_ceiled. Usable alone:
    /usr/bin/python3 reports/encoding.py results.h5 --out figures/
"""
import sys

import matplotlib.pyplot as plt
import numpy as np

import lrm_results as R

KIND = "encoding"
TITLE = "Encoding: neural predictivity per layer and pass (Table 1)"
ABSENT = "encoding scores (lrm compare encode: /encoding/score)"


def find(f):
    return R.read_encoding(f)


def plot(en, out_dir, options=None):
    nr = len(en["regions"])
    cols = min(nr, 2)
    rows = int(np.ceil(nr / cols))
    width = R.SINGLE_COLUMN if cols == 1 else R.DOUBLE_COLUMN * 0.62
    fig, axes = plt.subplots(rows, cols, figsize=(width, 1.75 * rows), squeeze=False, sharey=True)
    x = np.arange(len(en["layers"]))
    offsets = np.linspace(-0.08, 0.08, len(en["passes"])) if len(en["passes"]) > 1 else [0]
    for r, region in enumerate(en["regions"]):
        ax = axes[r // cols, r % cols]
        if "ceiling" in en and np.isfinite(en["ceiling"][r]):
            ax.axhline(en["ceiling"][r], color="0.35", ls="--", lw=1, label="ceiling")
        for j, k in enumerate(en["passes"]):
            err = en["error"][r, :, j] if "error" in en else None
            ax.errorbar(x + offsets[j], en["score"][r, :, j], yerr=err, marker="o",
                        color=R.pass_colour(k), label=f"pass {k}", elinewidth=0.7)
        ax.set_title(region + (" (simulated)" if en["simulated"] else ""))
        ax.set_xticks(x)
        ax.set_xticklabels(en["layers"], rotation=45, ha="right")
        ax.set_xlabel("Layer")
        if r % cols == 0:
            ax.set_ylabel("Neural predictivity\n(median Pearson r)")
    top = np.nanmax([np.nanmax(en["score"] + (en["error"] if "error" in en else 0)),
                     np.nanmax(en["ceiling"]) if "ceiling" in en else 0])
    axes[0, 0].set_ylim(min(0, np.nanmin(en["score"]) - 0.05), max(0.1, top * 1.08))
    for r in range(nr, rows * cols):
        axes[r // cols, r % cols].set_visible(False)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    axes[0, cols - 1].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    stem = R.save(fig, out_dir, R.slug(KIND, en["name"]))
    header = ["region", "layer"] + [f"pass {k} r" for k in en["passes"]]
    if "ceiled" in en:
        header += [f"pass {k} r / ceiling" for k in en["passes"]]
    header += ["ceiling"]
    table = []
    for r, region in enumerate(en["regions"]):
        for l, layer in enumerate(en["layers"]):
            cells = [f"{en['score'][r, l, j]:.3f}" + (f" ± {en['error'][r, l, j]:.3f}"
                                                     if "error" in en else "")
                     for j in range(len(en["passes"]))]
            if "ceiled" in en:
                cells += [en["ceiled"][r, l, j] for j in range(len(en["passes"]))]
            cells.append(en["ceiling"][r] if "ceiling" in en else "—")
            table.append([region, layer] + cells)
    # Table 1: the best layer per region (by its best pass), pass by pass.
    best = []
    for r, region in enumerate(en["regions"]):
        l = int(np.nanargmax(np.nanmax(en["score"][r], axis=1)))
        best.append([region, en["layers"][l]]
                    + [f"{en['score'][r, l, j]:.3f}" for j in range(len(en["passes"]))]
                    + [en["ceiling"][r] if "ceiling" in en else "—"])
    reg = f" ({str(en['regression']).upper()} regression)" if en["regression"] else ""
    return R.Figure([stem], f"Neural predictivity{reg} per layer and pass ({en['path']}): median "
                    "over neuroids of the held-out Pearson r, mean ± s.e. over splits; dashed: "
                    "internal-consistency ceiling (split-half, Spearman–Brown).",
                    [R.html_table(["region", "best layer"] + [f"pass {k}" for k in en["passes"]]
                                  + ["ceiling"], best, "Table 1: predictivity of the best layer, "
                                  "pass 0 vs later passes"),
                     R.html_table(header, table, "Predictivity per region, layer and pass")])


if __name__ == "__main__":
    sys.exit(R.main(sys.modules[__name__]))
