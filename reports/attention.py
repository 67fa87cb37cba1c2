#!/usr/bin/python3
"""Attention modulation of category-selective units (paper Fig. 6B): mean activation of the units
selective for each category (unit type) while attending each category, with 95% CIs, and the
attention modulation index per unit type.

Reads `lrm attend` results: /<prefix>/attention/mean_activation (unit_type × attended). Usable alone:
    /usr/bin/python3 reports/attention.py results.h5 --out figures/
"""
import sys

import matplotlib.pyplot as plt
import numpy as np

import lrm_results as R

KIND = "attention"
TITLE = "Attention modulation of selective units (Fig. 6B)"
ABSENT = "attention modulation (lrm attend: /attention)"


def find(f):
    return R.read_attention(f)


def _per_unit(at, key, i):
    v = at[key]
    return np.ravel(v)[i] if v is not None and np.size(v) == len(at["unit_types"]) else "—"


def _p(p):
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def plot(at, out_dir, options=None):
    v, units, attended = at["values"], at["unit_types"], at["attended"]
    fig, ax = plt.subplots(figsize=(R.SINGLE_COLUMN * 0.6, 1.8))
    width = 0.8 / len(attended)
    x = np.arange(len(units))
    for j, a in enumerate(attended):
        pos = x + (j - (len(attended) - 1) / 2) * width
        err = None
        if at["ci"] is not None:
            lo, hi = at["ci"]
            err = np.abs(np.vstack([v[:, j] - lo[:, j], hi[:, j] - v[:, j]]))
        ax.bar(pos, v[:, j], width, yerr=err, color=R.colour(j), label=f"attend {a}",
               error_kw=dict(lw=0.8, ecolor="k"))
    if at["unsteered"] is not None and np.size(at["unsteered"]) == len(units):
        for i, u in enumerate(np.ravel(at["unsteered"])):
            ax.plot([x[i] - 0.45, x[i] + 0.45], [u, u], color="0.35", ls="--", lw=0.9,
                    label="no steering" if i == 0 else None)
    top = np.nanmax(at["ci"][1] if at["ci"] is not None else v)
    for i in range(len(units)):
        parts = []
        if at["index"] is not None and np.size(at["index"]) == len(units):
            parts.append(f"AMI {np.ravel(at['index'])[i]:.2f}".replace("-0.00", "0.00"))
        if at["p"] is not None and np.size(at["p"]) == len(units):
            parts.append(_p(np.ravel(at["p"])[i]))
        if parts:
            ax.text(x[i], top * 1.04, "\n".join(parts), ha="center", va="bottom", fontsize=5.5)
    if np.isfinite(top) and top > 0 and np.nanmin(v) >= 0:
        ax.set_ylim(0, top * 1.3)
    ax.set_xticks(x)
    ax.set_xticklabels([f"{u} units" for u in units])
    where = ", ".join(s for s in [at["layer"] and str(at["layer"]),
                                  at["pass_index"] is not None and f"pass {at['pass_index']}"] if s)
    ax.set_ylabel("Mean activation (a.u.)" + (f"\n{where}" if where else ""))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    stem = R.save(fig, out_dir, R.slug(KIND, at["name"]))
    header = ["unit type", "units"] + [f"attend {a}" for a in attended] + ["no steering",
                                                                          "modulation index", "p"]
    rows = []
    for i, u in enumerate(units):
        cells = []
        for j in range(len(attended)):
            ci = (f" [{at['ci'][0][i, j]:.3g}, {at['ci'][1][i, j]:.3g}]"
                  if at["ci"] is not None else "")
            cells.append(f"{v[i, j]:.3g}{ci}")
        rows.append([u, _per_unit(at, "n_units", i)] + cells
                    + [_per_unit(at, k, i) for k in ("unsteered", "index", "p")])
    alpha = f", α = {at['alpha']}" if at["alpha"] is not None else ""
    return R.Figure([stem], f"Mean activation of the units selective for each category while the "
                    f"model attends (is steered toward) each category{alpha} ({at['path']}); error "
                    "bars: 95% CIs; dashed: without steering; AMI: (preferred − other) / "
                    "(preferred + other).",
                    [R.html_table(header, rows, "Attention modulation (2 × 2)")])


if __name__ == "__main__":
    sys.exit(R.main(sys.modules[__name__]))
