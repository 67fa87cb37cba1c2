#!/usr/bin/python3
"""FGSM robustness: accuracy vs ε per pass (paper Fig. 2B) and the change in area under that curve
against the no-feedback baseline (Fig. 2C).

Reads `lrm robustness` results: /<prefix>/robustness/accuracy (model × epsilon × pass),
auc_change_percent (model × pass). Usable alone:
    /usr/bin/python3 reports/robustness.py results.h5 --out figures/
"""
import sys

import matplotlib.pyplot as plt
import numpy as np

import lrm_results as R

KIND = "robustness"
TITLE = "FGSM robustness (Fig. 2B-C)"
ABSENT = "robustness analysis (lrm robustness: /robustness)"
PASS_STYLES = [":", "-", "-.", (0, (5, 1))]


def find(f):
    return R.read_robustness(f)


def plot(rb, out_dir, options=None):
    has_change = "auc_change" in rb
    fig, axes = plt.subplots(1, 2 if has_change else 1, figsize=(R.SINGLE_COLUMN, 1.9),
                             gridspec_kw=dict(width_ratios=[1.5, 1] if has_change else [1]),
                             squeeze=False)
    ax = axes[0, 0]
    eps = rb["epsilons"]
    others = [m for m in rb["models"] if m != rb["baseline"]]
    for m, model in enumerate(rb["models"]):
        if model == rb["baseline"]:
            ax.plot(eps, rb["accuracy"][m, :, 0], color="0.35", ls="--", lw=1)
            continue
        c = R.colour(others.index(model))
        for j, k in enumerate(rb["passes"]):
            ax.plot(eps, rb["accuracy"][m, :, j], color=c, ls=PASS_STYLES[k % len(PASS_STYLES)])
    ax.set_xlabel("FGSM ε (pixel scale 0–1)")
    ax.set_ylabel("Top-1 accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_xlim(eps.min(), eps.max())
    # Two small legends: colour = model, line style = pass.
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], color=R.colour(i), label=m) for i, m in enumerate(others)]
    if rb["baseline"] is not None:
        handles.append(Line2D([], [], color="0.35", ls="--", lw=1, label=rb["baseline"]))
    handles += [Line2D([], [], color="k", ls=PASS_STYLES[k % len(PASS_STYLES)], label=f"pass {k}")
                for k in rb["passes"]]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=min(4, len(handles)), handlelength=2.2, columnspacing=1.0)
    R.panel_label(ax, "B")
    if has_change:
        ax = axes[0, 1]
        width = 0.8 / max(1, len(rb["passes"]))
        x = np.arange(len(others))
        for j, k in enumerate(rb["passes"]):
            vals = [rb["auc_change"][rb["models"].index(m), j] for m in others]
            ax.bar(x + (j - (len(rb["passes"]) - 1) / 2) * width, vals, width,
                   color=R.pass_colour(k), label=f"pass {k}")
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xticks(x)
        ax.set_xticklabels(others, rotation=30, ha="right")
        ax.set_ylabel("ΔAUC vs baseline (%)")
        ax.legend(loc="upper left")
        R.panel_label(ax, "C")
    fig.tight_layout(w_pad=0.8)
    stem = R.save(fig, out_dir, R.slug(KIND, rb["name"]))
    header = ["model"] + [f"pass {k} AUC" for k in rb["passes"]] + (
        [f"pass {k} AUC change (%)" for k in rb["passes"]] if has_change else [])
    rows = []
    for m, model in enumerate(rb["models"]):
        rows.append([model] + list(rb["auc"][m]) + (list(rb["auc_change"][m]) if has_change else []))
    attack = f", gradient of pass {rb['attack_pass']}'s loss" if rb["attack_pass"] is not None else ""
    return R.Figure([stem], f"FGSM accuracy against ε per pass{attack} ({rb['path']}); dashed: the "
                    "no-feedback baseline. Right: change in the area under the curve against the "
                    "baseline.", [R.html_table(header, rows, "Area under the accuracy–ε curve")])


if __name__ == "__main__":
    sys.exit(R.main(sys.modules[__name__]))
