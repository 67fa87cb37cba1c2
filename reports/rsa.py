#!/usr/bin/python3
"""RSA: model–brain RDM correlation per layer and pass, with the noise-ceiling band (one panel per
brain RDM).

Reads `lrm compare rsa` results: /<prefix>/rsa/correlation (brain × layer × pass), its CIs and
noise_ceiling_lower / noise_ceiling_upper (brain). Usable alone:
    /usr/bin/python3 reports/rsa.py results.h5 --out figures/
"""
import sys

import matplotlib.pyplot as plt
import numpy as np

import lrm_results as R

KIND = "rsa"
TITLE = "Model–brain representational similarity"
ABSENT = "RSA model–brain comparison (lrm compare rsa: /rsa/correlation)"

SYMBOL = {"spearman": "Spearman ρ", "pearson": "Pearson r", "kendall": "Kendall τ-a",
          "kendall_tau_a": "Kendall τ-a", "tau_a": "Kendall τ-a", "rho_a": "ρ-a",
          "cosine": "cosine"}


def find(f):
    return R.read_rsa(f)


def plot(rs, out_dir, options=None):
    nb = len(rs["brains"])
    cols = min(nb, 2)
    rows = int(np.ceil(nb / cols))
    width = R.SINGLE_COLUMN if cols == 1 else R.DOUBLE_COLUMN * 0.62
    fig, axes = plt.subplots(rows, cols, figsize=(width, 1.75 * rows), squeeze=False,
                             sharey=True)
    x = np.arange(len(rs["layers"]))
    offsets = np.linspace(-0.08, 0.08, len(rs["passes"])) if len(rs["passes"]) > 1 else [0]
    for b, brain in enumerate(rs["brains"]):
        ax = axes[b // cols, b % cols]
        if "ceiling" in rs and np.isfinite(rs["ceiling"][0][b]) and np.isfinite(rs["ceiling"][1][b]):
            ax.axhspan(rs["ceiling"][0][b], rs["ceiling"][1][b], color="0.85", lw=0,
                       label="noise ceiling")
        for j, k in enumerate(rs["passes"]):
            y = rs["r"][b, :, j]
            err = None
            if "ci" in rs:
                err = np.abs(np.vstack([y - rs["ci"][0][b, :, j], rs["ci"][1][b, :, j] - y]))
            ax.errorbar(x + offsets[j], y, yerr=err, marker="o", color=R.pass_colour(k),
                        label=f"pass {k}", elinewidth=0.7)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(brain)
        ax.set_xticks(x)
        ax.set_xticklabels(rs["layers"], rotation=45, ha="right")
        ax.set_xlabel("Layer")
        if b % cols == 0:
            sym = SYMBOL.get(str(rs["comparison"]).lower(), rs["comparison"] or "correlation")
            ax.set_ylabel(f"Model–brain RDM\ncorrelation ({sym})")
    for b in range(nb, rows * cols):
        axes[b // cols, b % cols].set_visible(False)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    axes[0, cols - 1].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    stem = R.save(fig, out_dir, R.slug(KIND, rs["name"]))
    header = ["brain", "layer"] + [f"pass {k}" for k in rs["passes"]]
    rows_ = []
    for b, brain in enumerate(rs["brains"]):
        for l, layer in enumerate(rs["layers"]):
            cells = []
            for j in range(len(rs["passes"])):
                ci = (f" [{rs['ci'][0][b, l, j]:.3f}, {rs['ci'][1][b, l, j]:.3f}]"
                      if "ci" in rs else "")
                cells.append(f"{rs['r'][b, l, j]:.3f}{ci}")
            rows_.append([brain, layer] + cells)
    tables = [R.html_table(header, rows_, "Model–brain RDM correlation per layer and pass")]
    if "ceiling" in rs:
        tables.append(R.html_table(["brain", "noise ceiling lower", "noise ceiling upper"],
                                   [[b, rs["ceiling"][0][i], rs["ceiling"][1][i]]
                                    for i, b in enumerate(rs["brains"])], "Noise ceilings"))
    return R.Figure([stem], f"Correlation between model RDMs and brain RDMs per layer and pass "
                    f"({rs['path']}); grey band: noise ceiling (lower to upper bound); error bars: "
                    "95% bootstrap CIs where computed.", tables)


if __name__ == "__main__":
    sys.exit(R.main(sys.modules[__name__]))
