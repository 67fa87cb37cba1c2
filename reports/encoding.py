#!/usr/bin/python3
"""Encoding (Brain-Score-style neural predictivity): score per layer and pass with the
internal-consistency ceiling, one panel per neural data set (each `lrm compare encode` run in the
file, e.g. one per region); the paper's Table 1 (pass 0 vs later passes per region) as a table.

Reads /<prefix>/encoding/{score_raw, score_error, score_ceiled} per (layer, pass) model and the
scalar ceiling. Usable alone:
    /usr/bin/python3 reports/encoding.py results.h5 --out figures/
"""
import sys

import matplotlib.pyplot as plt
import numpy as np

import lrm_results as R

KIND = "encoding"
TITLE = "Encoding: neural predictivity per layer and pass (Table 1)"
ABSENT = "encoding scores (lrm compare encode: /encoding/score_raw)"


def find(f):
    items = R.read_encoding(f)
    return [dict(items=items)] if items else []


def plot(group, out_dir, options=None):
    items = group["items"]
    n = len(items)
    cols = min(n, 2)
    rows = int(np.ceil(n / cols))
    nl = max(len(en["layers"]) for en in items)
    panel_w = max(1.6, 0.28 * nl + 0.6)
    legend_w = 2.0  # the legend sits right of the panels and must not squeeze them
    fig, axes = plt.subplots(rows, cols, figsize=(min(R.DOUBLE_COLUMN, cols * panel_w + 0.9 + legend_w),
                                                  1.75 * rows + 0.2), squeeze=False, sharey=True)
    top, bottom = 0.1, 0.0
    for r, en in enumerate(items):
        ax = axes[r // cols, r % cols]
        x = np.arange(len(en["layers"]))
        offsets = np.linspace(-0.08, 0.08, len(en["passes"])) if len(en["passes"]) > 1 else [0]
        if en["ceiling"] is not None and np.isfinite(en["ceiling"]):
            ax.axhline(en["ceiling"], color="0.35", ls="--", lw=1,
                       label=f"ceiling {en['ceiling']:.3f}")
            top = max(top, en["ceiling"])
        if en["true_ceiling"] is not None:
            # Drawn in colour and labelled with its value: it usually lies on the estimate.
            ax.axhline(float(en["true_ceiling"]), color="tab:red", ls=":", lw=1.5,
                       label=f"true ceiling {float(en['true_ceiling']):.3f} (simulation)")
        for j, k in enumerate(en["passes"]):
            err = en["error"][:, j] if "error" in en else None
            ax.errorbar(x + offsets[j], en["score"][:, j], yerr=err, marker="o",
                        color=R.pass_colour(k), label=f"pass {k}", elinewidth=0.7)
        top = max(top, np.nanmax(en["score"] + (en["error"] if "error" in en else 0)))
        bottom = min(bottom, np.nanmin(en["score"]) - 0.05)
        simulated = en["simulated"] and "simul" not in en["region"].lower()
        ax.set_title(en["region"] + (" (simulated)" if simulated else ""))
        ax.set_xticks(x)
        ax.set_xticklabels(en["layers"], rotation=45, ha="right")
        ax.set_xlabel("Layer")
        if r % cols == 0:
            ax.set_ylabel("Neural predictivity\n(median Pearson r)")
    axes[0, 0].set_ylim(bottom, top * 1.08)
    for r in range(n, rows * cols):
        axes[r // cols, r % cols].set_visible(False)
    handles, labels = [], []
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h), labels.append(lab)
    axes[0, cols - 1].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    stem = R.save(fig, out_dir, KIND)
    passes = max((en["passes"] for en in items), key=len)
    table, best = [], []
    for en in items:
        for l, layer in enumerate(en["layers"]):
            cells = [f"{en['score'][l, j]:.3f}" + (f" ± {en['error'][l, j]:.3f}" if "error" in en else "")
                     for j in range(len(en["passes"]))]
            ceiled = [en["ceiled"][l, j] if "ceiled" in en else "—" for j in range(len(en["passes"]))]
            table.append([en["region"], layer] + cells + ceiled + [en["ceiling"] or "—"])
        # Table 1: the best layer (by its best pass), pass by pass.
        l = int(np.nanargmax(np.nanmax(en["score"], axis=1)))
        best.append([en["region"] + (" (simulated)" if en["simulated"] else ""), en["layers"][l]]
                    + [f"{en['score'][l, j]:.3f}" + (f" ± {en['error'][l, j]:.3f}" if "error" in en else "")
                       for j in range(len(en["passes"]))]
                    + [en["ceiling"] if en["ceiling"] is not None else "—"]
                    + ([en["true_ceiling"]] if any(e["true_ceiling"] is not None for e in items) else []))
    truth = ["true ceiling (simulation)"] if any(e["true_ceiling"] is not None for e in items) else []
    regs = sorted({str(en["regression"]).upper() for en in items if en["regression"]})
    return R.Figure([stem], f"Neural predictivity{' (' + ', '.join(regs) + ' regression)' if regs else ''}"
                    " per layer and pass: median over neuroids of the held-out Pearson r, mean ± s.e. "
                    "over splits; dashed: internal-consistency ceiling (split-half, Spearman–Brown).",
                    [R.html_table(["data", "best layer"] + [f"pass {k}" for k in passes]
                                  + ["ceiling"] + truth, best,
                                  "Table 1: predictivity of the best layer, pass by pass"),
                     R.html_table(["data", "layer"] + [f"pass {k} r" for k in passes]
                                  + [f"pass {k} r / ceiling" for k in passes] + ["ceiling"], table,
                                  "Predictivity per layer and pass")])


if __name__ == "__main__":
    sys.exit(R.main(sys.modules[__name__]))
