#!/usr/bin/python3
"""RSA: model–brain RDM correlation per layer and pass, with the noise-ceiling band; one panel per
brain data set (each `lrm compare rsa` run in the file).

Reads /<prefix>/rsa/{r_mean, ci_subjects_low/high or ci_stimuli_low/high} per (layer, pass) model
and noise_ceiling_lower/upper. Usable alone:
    /usr/bin/python3 reports/rsa.py results.h5 --out figures/
"""
import sys

import matplotlib.pyplot as plt
import numpy as np

import lrm_results as R

KIND = "rsa"
TITLE = "Model–brain representational similarity"
ABSENT = "RSA model–brain comparison (lrm compare rsa --activations: /rsa/r_mean)"

SYMBOL = {"spearman": "Spearman ρ", "pearson": "Pearson r", "kendall_tau_a": "Kendall τ-a",
          "kendall-tau-a": "Kendall τ-a", "tau_a": "Kendall τ-a", "tau-a": "Kendall τ-a",
          "kendall": "Kendall τ", "rho_a": "ρ-a", "rho-a": "ρ-a", "cosine": "cosine"}


def find(f):
    items = R.read_rsa(f)
    return [dict(items=items)] if items else []


def _symbol(rs):
    sym = SYMBOL.get(str(rs["comparison"]).lower(), rs["comparison"] or "correlation")
    return f"{sym}²" if rs["squared"] else sym


def plot(group, out_dir, options=None):
    items = group["items"]
    n = len(items)
    cols = min(n, 2)
    rows = int(np.ceil(n / cols))
    nl = max(len(rs["layers"]) for rs in items)
    panel_w = max(1.6, 0.28 * nl + 0.6)
    fig, axes = plt.subplots(rows, cols, figsize=(min(R.DOUBLE_COLUMN, cols * panel_w + 0.9),
                                                  1.75 * rows + 0.2), squeeze=False, sharey=True)
    table, ceilings = [], []
    for b, rs in enumerate(items):
        ax = axes[b // cols, b % cols]
        x = np.arange(len(rs["layers"]))
        offsets = np.linspace(-0.08, 0.08, len(rs["passes"])) if len(rs["passes"]) > 1 else [0]
        if "ceiling" in rs:
            ax.axhspan(*rs["ceiling"], color="0.85", lw=0, label="noise ceiling")
            ceilings.append([rs["brain"], rs["ceiling"][0], rs["ceiling"][1]])
        for j, k in enumerate(rs["passes"]):
            y = rs["r"][:, j]
            err = None
            if "ci" in rs:
                err = np.abs(np.vstack([y - rs["ci"][0][:, j], rs["ci"][1][:, j] - y]))
            ax.errorbar(x + offsets[j], y, yerr=err, marker="o", color=R.pass_colour(k),
                        label=f"pass {k}", elinewidth=0.7)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(rs["brain"] + (f" ({rs['n_brain_rdms']} RDMs)" if rs["n_brain_rdms"] else ""))
        ax.set_xticks(x)
        ax.set_xticklabels(rs["layers"], rotation=45, ha="right")
        ax.set_xlabel("Layer")
        if b % cols == 0:
            ax.set_ylabel(f"Model–brain RDM\ncorrelation ({_symbol(rs)})")
        for l, layer in enumerate(rs["layers"]):
            cells = []
            for j in range(len(rs["passes"])):
                ci = (f" [{rs['ci'][0][l, j]:.3f}, {rs['ci'][1][l, j]:.3f}]" if "ci" in rs else "")
                cells.append(f"{rs['r'][l, j]:.3f}{ci}")
            table.append([rs["brain"], layer] + cells + [""] * (max(len(i["passes"]) for i in items)
                                                              - len(rs["passes"])))
    for b in range(n, rows * cols):
        axes[b // cols, b % cols].set_visible(False)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    axes[0, cols - 1].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    stem = R.save(fig, out_dir, KIND)
    passes = max((i["passes"] for i in items), key=len)
    tables = [R.html_table(["brain", "layer"] + [f"pass {k}" for k in passes], table,
                           "Model–brain RDM correlation per layer and pass [95% CI]")]
    if ceilings:
        tables.append(R.html_table(["brain", "noise ceiling lower", "noise ceiling upper"],
                                   ceilings, "Noise ceilings"))
    over = sorted({i.get("ci_over") for i in items if "ci" in i})
    return R.Figure([stem], "Correlation between model RDMs (per layer and pass) and brain RDMs, mean "
                    "over the brain data set's RDMs; grey band: noise ceiling (lower to upper bound)"
                    + (f"; error bars: 95% bootstrap CIs over {' and '.join(over)}" if over else "")
                    + ".", tables)


if __name__ == "__main__":
    sys.exit(R.main(sys.modules[__name__]))
