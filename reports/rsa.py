#!/usr/bin/python3
"""RSA: model–brain RDM correlation per layer and pass, with the noise-ceiling band; one panel per
brain data set (each `lrm compare rsa` run in the file). With `--inference`, a model comparison in
rsatoolbox's style (bars with CIs, ceiling band, lines over pairs that differ after FDR); with
`lrm compare cka`, the layer × pass by layer × pass CKA map (and each layer × pass against the
brain); with `lrm compare weighted`, the fitted weights and, with --vpa, the unique and shared
explained variance with bootstrap CIs.

Reads /<prefix>/rsa/{r_mean, ci_subjects_low/high or ci_stimuli_low/high} per (layer, pass) model
and noise_ceiling_lower/upper; /<prefix>/rsa/inference; /<prefix>/cka/{cka, cka_brain};
/<prefix>/weighted/{weights, score_cv, vpa/*}. Usable alone:
    /usr/bin/python3 reports/rsa.py results.h5 --out figures/
"""
import os
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


def read_weighted(f):
    """`lrm compare weighted`: /<prefix>/weighted/{weights, score_cv, objective} per component and,
    with --vpa, /<prefix>/weighted/vpa/{explained_variance, ci_low, ci_high} per part."""
    out = []
    for path, ds in R.analyses(f, "weighted", "weights"):
        w = dict(path=path, name=R.prefix_of(path, "weighted"), components=R.strings(ds["component"]),
                 weights=R.floats(ds["weights"]), score=float(R.floats(ds["score_cv"])),
                 comparison=str(R.text(ds.attrs.get("comparison"))),
                 fit=str(R.text(ds.attrs.get("fit", "nnls"))))
        for vpath, v in R.analyses(f, "vpa", "explained_variance"):
            if vpath.startswith(path + "/"):
                w["vpa"] = dict(parts=R.strings(v["part"]), value=R.floats(v["explained_variance"]),
                                low=R.floats(v["ci_low"]), high=R.floats(v["ci_high"]),
                                resamples=int(R.text(v.attrs.get("resamples", 0))))
        out.append(w)
    return out


def _cka_brain(f, path):
    """/<prefix>/cka/cka_brain (one CKA per model against brain responses), or None."""
    ds = f.dataset(path)
    if "cka_brain" not in ds:
        return None
    return dict(cka=R.floats(ds["cka_brain"]), source=str(R.text(ds.attrs.get("brain", "brain"))))


def find(f):
    items = R.read_rsa(f)
    return (([dict(items=items)] if items else [])
            + [dict(inference=i) for i in R.read_rsa_inference(f)]
            + [dict(cka=dict(c, brain=_cka_brain(f, c["path"]))) for c in R.read_cka(f)]
            + [dict(weighted=w) for w in read_weighted(f)])


def _short(component):
    """A component spec as a label: file.h5:/rsa/model_rdm/fc/pass1 -> fc/pass1; file.h5:/x#name
    (one RDM of a stack) -> name."""
    tail = str(component).split(":", 1)[-1].split("#")[-1].strip("/")
    parts = tail.split("/")
    return "/".join(parts[-2:]) if len(parts) > 1 else tail or str(component)


def plot_weighted(w, out_dir):
    """Weights of the components and, with a variance partition, the unique and shared explained
    variance of each part with its bootstrap CI (Venn-like bars: unique parts in the component's
    colour, shared parts grey)."""
    labels = [_short(c) for c in w["components"]]
    vpa = w.get("vpa")
    fig, axes = plt.subplots(1, 2 if vpa else 1, figsize=(R.DOUBLE_COLUMN if vpa else 3.2, 2.4),
                             squeeze=False)
    ax = axes[0, 0]
    x = np.arange(len(labels))
    ax.bar(x, w["weights"], color=[f"C{i}" for i in range(len(labels))], width=0.7)
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=45, ha="right")
    ax.set_ylabel("weight")
    sym = SYMBOL.get(w["comparison"].lower(), w["comparison"])
    ax.set_title(f"weighted RSA ({w['fit']}): cross-validated {sym} {w['score']:.3f}")
    rows = [[l, f"{v:.4f}"] for l, v in zip(labels, w["weights"])]
    tables = [R.html_table(["component", "weight"], rows,
                           f"Weighted RSA: cross-validated {sym} {w['score']:.4f}")]
    caption = (f"Weighted RSA: non-negative weights of the component RDMs ({w['fit']} fit), "
               f"cross-validated {sym} with held-out subjects and stimuli {w['score']:.3f}.")
    if vpa:
        ax = axes[0, 1]
        parts = vpa["parts"]
        colours = [f"C{int(p.split()[1]) - 1}" if p.startswith("unique") else "0.6" for p in parts]
        # "unique 1", "shared 1+2" name the components by number.
        names = [p.split()[0] + " " + " ∩ ".join(labels[int(k) - 1] for k in p.split()[1].split("+"))
                 for p in parts]
        y = np.arange(len(parts))[::-1]
        err = np.abs(np.vstack([vpa["value"] - vpa["low"], vpa["high"] - vpa["value"]]))
        ax.barh(y, vpa["value"], color=colours, height=0.7)
        if np.all(np.isfinite(err)):
            ax.errorbar(vpa["value"], y, xerr=err, fmt="none", ecolor="k", elinewidth=0.8)
        ax.axvline(0, color="k", lw=0.5)
        ax.set_yticks(y)
        ax.set_yticklabels(names)
        ax.set_xlabel("explained variance (R²)")
        ax.set_title("variance partitioning")
        tables.append(R.html_table(
            ["part", "R²", "95% CI"],
            [[n, f"{v:.4f}", f"[{lo:.4f}, {hi:.4f}]"]
             for n, v, lo, hi in zip(names, vpa["value"], vpa["low"], vpa["high"])],
            f"Variance partitioning ({vpa['resamples']} stimulus resamples)"))
        caption += (" Right: R² of the mean brain RDM explained by each component alone (unique, "
                    "coloured) and shared between components (grey), with 95% percentile CIs "
                    f"from {vpa['resamples']} stimulus bootstrap resamples.")
    fig.tight_layout()
    stem = R.save(fig, out_dir, R.slug("rsa_weighted", w["name"]))
    return R.Figure([stem], caption, tables)


def plot_inference(inf, out_dir):
    """Bars of each model's score with its CI, the noise-ceiling band, and a line over each pair of
    models whose difference is significant after FDR (rsatoolbox's plot_model_comparison)."""
    n = len(inf["models"])
    fig, ax = plt.subplots(figsize=(min(R.DOUBLE_COLUMN, 0.35 * n + 1.4), 2.4))
    x = np.arange(n)
    ax.axhspan(*inf["ceiling"], color="0.85", lw=0, label="noise ceiling")
    # As rsatoolbox's plot_model_comparison: bars at the mean over resamples, which the CIs and
    # tests are centred on (the score on all data where a file predates it).
    y = inf["evaluation"] if inf.get("bootstrap_mean") is None else inf["bootstrap_mean"]
    ax.bar(x, y, color=[R.pass_colour(int(m.rsplit("pass", 1)[-1])) if "pass" in m else "C0"
                        for m in inf["models"]], width=0.7)
    ax.errorbar(x, y, yerr=np.abs(np.vstack([y - inf["low"], inf["high"] - y])), fmt="none",
                ecolor="k", elinewidth=0.8, label="95% CI")
    top = max(np.nanmax(inf["high"]), inf["ceiling"][1])
    step, level = 0.04 * max(top, 0.1), top
    for i in range(n):
        for j in range(i + 1, n):
            if inf["p_fdr"][i, j] < 0.05:
                level += step
                ax.plot([i, j], [level, level], color="0.3", lw=0.6)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(x)
    ax.set_xticklabels(inf["models"], rotation=45, ha="right")
    sym = SYMBOL.get(str(inf["comparison"]).lower(), inf["comparison"] or "correlation")
    ax.set_ylabel(f"RDM correlation ({sym})")
    ax.set_title(f"{inf['brain']}: model comparison")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    stem = R.save(fig, out_dir, R.slug("rsa_models", inf["brain"]))
    rows = [[m, f"{e:.3f} [{lo:.3f}, {hi:.3f}]", f"{pz:.3g}", f"{pc:.3g}"]
            for m, e, lo, hi, pz, pc in zip(inf["models"], y, inf["low"], inf["high"],
                                            inf["p_zero"], inf["p_ceiling"])]
    table = R.html_table(["model", "score [95% CI]", "p vs 0", "p vs lower ceiling"], rows,
                         f"Model inference (bootstrap over {inf['over']}); lower ceiling vs chance "
                         f"p = {inf['p_chance']:.3g}")
    return R.Figure([stem], "Model comparison: RDM correlation per layer and pass, mean over "
                    f"resamples with 95% CIs from a bootstrap over {inf['over']}; grey band: noise ceiling; lines: "
                    "pairs of models that differ (t-test on the bootstrap variance, Benjamini–"
                    "Hochberg FDR 0.05 across pairs).", [table])


def plot_cka(c, out_dir):
    """The layer × pass by layer × pass CKA map and, with brain responses, each model's CKA with
    them."""
    n = len(c["models"])
    brain = c.get("brain")
    size = min(R.DOUBLE_COLUMN, 0.3 * n + 1.6)
    fig, axes = plt.subplots(1, 2 if brain else 1, squeeze=False,
                             figsize=(min(R.DOUBLE_COLUMN, size * (1.8 if brain else 1)), size * 0.85))
    ax = axes[0, 0]
    im = ax.imshow(c["cka"], vmin=min(0.0, np.nanmin(c["cka"])), vmax=1, cmap="viridis")
    ax.set_xticks(np.arange(n))
    ax.set_yticks(np.arange(n))
    ax.set_xticklabels(c["models"], rotation=90)
    ax.set_yticklabels(c["models"])
    kind = f"{'debiased ' if c['debiased'] else ''}{c['kernel']} CKA"
    ax.set_title(kind)
    fig.colorbar(im, ax=ax, shrink=0.8, label="CKA")
    caption = (f"Centred kernel alignment ({kind}) between every layer and pass: how feedback "
               "passes change each layer's representation.")
    if brain:
        ax = axes[0, 1]
        y = np.arange(n)
        ax.barh(y, brain["cka"], color=[R.pass_colour(int(m.rsplit("pass", 1)[-1])) if "pass" in m
                                        else "C0" for m in c["models"]], height=0.7)
        ax.set_yticks(y)
        ax.set_yticklabels(c["models"])
        ax.invert_yaxis()
        ax.set_xlabel(kind)
        ax.set_title(f"vs {os.path.basename(brain['source'])}")
        caption += " Right: each layer and pass against the brain responses (same stimuli)."
    fig.tight_layout()
    stem = R.save(fig, out_dir, R.slug("rsa_cka", c["name"] or "map"))
    return R.Figure([stem], caption)


def _symbol(rs):
    sym = SYMBOL.get(str(rs["comparison"]).lower(), rs["comparison"] or "correlation")
    return f"{sym}²" if rs["squared"] else sym


def plot(group, out_dir, options=None):
    if "inference" in group:
        return plot_inference(group["inference"], out_dir)
    if "cka" in group:
        return plot_cka(group["cka"], out_dir)
    if "weighted" in group:
        return plot_weighted(group["weighted"], out_dir)
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
