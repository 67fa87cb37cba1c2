#!/usr/bin/python3
"""RDM heatmaps ordered by category: model RDMs per layer (columns) and pass (rows), and the brain
RDMs, each shown as percentiles of its dissimilarities (as in Kriegeskorte et al. 2008); and a
classical MDS of the stimuli under each RDM, coloured by category.

Reads the RDMs of `lrm compare rsa --save-rdms`: /<prefix>/rsa/model_rdm/<layer>/pass<k> and
/<prefix>/rsa/brain_rdm_mean (stimulus × stimulus_b), the stimuli ordered by the categories the
file gives them elsewhere (merged activations or stimulus sets). Usable alone:
    /usr/bin/python3 reports/rdm.py results.h5 --out figures/
"""
import sys

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import rankdata

import lrm_results as R

KIND = "rdm"
TITLE = "RDMs ordered by category"
ABSENT = "RDMs (lrm compare rsa --save-rdms: /rsa/model_rdm)"
MAX_LAYERS = 8


def find(f):
    return R.read_rdms(f)


def _percentile(rdm):
    n = rdm.shape[0]
    iu = np.triu_indices(n, 1)
    out = np.zeros_like(rdm)
    ranks = 100 * (rankdata(rdm[iu]) - 1) / max(1, len(iu[0]) - 1)
    out[iu] = ranks
    out.T[iu] = ranks
    return out


def _order(category):
    if category is None:
        return None, []
    cats = list(dict.fromkeys(category))  # first-appearance order
    order = np.argsort([cats.index(c) for c in category], kind="stable")
    bounds, sorted_cats = [], category[order]
    for i in range(1, len(sorted_cats)):
        if sorted_cats[i] != sorted_cats[i - 1]:
            bounds.append(i - 0.5)
    return order, bounds


def classical_mds(rdm):
    """Torgerson's classical MDS: the top two eigenvectors of the double-centred squared
    dissimilarities, scaled by the square roots of their eigenvalues."""
    n = rdm.shape[0]
    j = np.eye(n) - 1.0 / n
    w, v = np.linalg.eigh(-0.5 * j @ (rdm ** 2) @ j)
    top = np.argsort(w)[::-1][:2]
    return v[:, top] * np.sqrt(np.maximum(w[top], 0))


def plot_mds(group, cells, out_dir):
    """One MDS panel per RDM of the heatmap figure, stimuli coloured by category."""
    fig, axes = plt.subplots(1, len(cells), figsize=(min(R.DOUBLE_COLUMN, 1.5 * len(cells) + 0.6),
                                                     1.7), squeeze=False)
    for ax, (title, rdm, category) in zip(axes[0], cells):
        xy = classical_mds(rdm)
        cats = list(dict.fromkeys(category)) if category is not None else [None]
        for i, cat in enumerate(cats):
            keep = np.ones(len(xy), bool) if cat is None else np.asarray(category) == cat
            ax.scatter(xy[keep, 0], xy[keep, 1], s=4, color=R.colour(i), label=cat)
        ax.set_title(title, fontsize=6)
        ax.set_xticks([])
        ax.set_yticks([])
    if cells and cells[0][2] is not None and len(set(cells[0][2])) <= 12:
        axes[0, -1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=5, markerscale=2)
    fig.tight_layout()
    return R.save(fig, out_dir, R.slug("rdm_mds", group["name"]))


def plot(group, out_dir, options=None):
    rdms = group["rdms"]
    model = [r for r in rdms if r["pass_index"] is not None]
    brain = [r for r in rdms if r["pass_index"] is None]
    layers = R.layer_order(list(dict.fromkeys(r["layer"] for r in model)))[:MAX_LAYERS]
    passes = sorted({r["pass_index"] for r in model})
    ncol = max(len(layers), len(brain), 1)
    nrow = len(passes) + (1 if brain else 0)
    size = min(0.85, R.DOUBLE_COLUMN / (ncol + 0.6))
    fig, axes = plt.subplots(nrow, ncol, figsize=(size * ncol + 0.6, size * nrow + 0.25),
                             squeeze=False, constrained_layout=True)
    for ax in axes.ravel():
        ax.set_visible(False)
    cells = [(passes.index(r["pass_index"]), layers.index(r["layer"]), r, f"{r['layer']}")
             for r in model if r["layer"] in layers]
    cells += [(len(passes), i, r, r["label"]) for i, r in enumerate(brain)]
    # Brain RDMs of the model's stimuli share their categories when they carry none themselves.
    shared = next((r["category"] for r in model if r["category"] is not None), None)
    im = None
    mds = []
    for row, col, r, title in cells:
        ax = axes[row, col]
        ax.set_visible(True)
        category = r["category"]
        if category is None and shared is not None and len(shared) == r["rdm"].shape[0]:
            category = shared
        order, bounds = _order(category)
        mds.append((title if row == len(passes) else f"{title} pass {r['pass_index']}", r["rdm"],
                    category))
        m = _percentile(r["rdm"])
        if order is not None:
            m = m[np.ix_(order, order)]
        im = ax.imshow(m, cmap="viridis", vmin=0, vmax=100, interpolation="nearest")
        for b in bounds:
            ax.axhline(b, color="white", lw=0.4)
            ax.axvline(b, color="white", lw=0.4)
        ax.set_xticks([])
        ax.set_yticks([])
        cats = list(dict.fromkeys(category)) if category is not None else []
        if col == 0 and 1 < len(cats) <= 12:
            edges = [-0.5] + bounds + [len(category) - 0.5]
            ax.set_yticks([(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])])
            ax.set_yticklabels(cats, fontsize=4.5)
            ax.tick_params(axis="y", length=0, pad=1)
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_title(title if row < len(passes) and row == 0 or row == len(passes) else "",
                     fontsize=6)
        if col == 0 and row < len(passes):
            ax.set_ylabel(f"pass {r['pass_index']}")
        elif col == 0:
            ax.set_ylabel("brain")
    if im is not None:
        cb = fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, aspect=20, pad=0.02)
        cb.set_label("Dissimilarity (percentile)")
        cb.outline.set_visible(False)
    stem = R.save(fig, out_dir, R.slug(KIND, group["name"]))
    cats = next((r["category"] for r in rdms if r["category"] is not None), None)
    order_text = (" Stimuli ordered by category (" + ", ".join(dict.fromkeys(cats)) + "); white "
                  "lines separate categories." if cats is not None else "")
    mds_stem = plot_mds(group, mds, out_dir)
    return R.Figure([stem, mds_stem], f"Representational dissimilarity matrices ({group['name'] or '/'}): "
                    "model layers per pass, and brain RDMs, as percentiles of each RDM's "
                    f"dissimilarities.{order_text} Second figure: classical MDS of the stimuli "
                    "under each RDM, coloured by category.")


if __name__ == "__main__":
    sys.exit(R.main(sys.modules[__name__]))
