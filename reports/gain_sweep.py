#!/usr/bin/python3
"""Steering gain sweep (paper Fig. 9C, Table 4): A′ (hits against false alarms) as a function of the
gain α for each model, e.g. multiplicative vs additive feedback; one panel per steering type, one
row per composite kind; hit and false-alarm rates per α in the table.

Reads every `lrm steer` result in the file: /<prefix>/steering/{a_prime, a_prime_ci, alpha,
steering_type}. Usable alone:
    /usr/bin/python3 reports/gain_sweep.py results.h5 --out figures/
"""
import sys

import matplotlib.pyplot as plt

import lrm_results as R

KIND = "gain_sweep"
TITLE = "A′ against steering gain α (Fig. 9C, Table 4)"
ABSENT = "steering sweep with A′ (lrm steer: /steering/a_prime)"


def find(f):
    items = [st for st in R.read_steering(f) if "a_prime" in st]
    return [dict(items=items)] if items else []


def plot(group, out_dir, options=None):
    items = group["items"]
    models = list(dict.fromkeys(R.model_without_composite(s) for s in items))
    composites = sorted({s["composite"] for s in items})
    types = list(dict.fromkeys(t for s in items for t in R.steering_types(s)))
    nr, nc = len(composites), max(1, len(types))
    fig, axes = plt.subplots(nr, nc, figsize=(min(R.DOUBLE_COLUMN, 1.15 * nc + 0.7), 1.35 * nr + 0.35),
                             squeeze=False, sharex=True, sharey=True)
    rows = []
    chance = next((s["chance"] for s in items), None)
    for s in items:
        model = R.model_without_composite(s)
        colour = R.colour(models.index(model))
        r = composites.index(s["composite"])
        for t in R.steering_types(s):
            ax = axes[r, types.index(t)]
            idx = [i for i, tt in enumerate(s["types"]) if tt == t]
            idx.sort(key=lambda i: s["alphas"][i])
            a = s["alphas"][idx]
            ax.plot(a, s["a_prime"][idx], marker="o", color=colour, label=model)
            if "a_prime_ci" in s:
                ax.fill_between(a, s["a_prime_ci"][0][idx], s["a_prime_ci"][1][idx], color=colour,
                                alpha=0.2, lw=0)
            for i in idx:
                rows.append([model, s["composite"], t, s["alphas"][i], s["a_prime"][i]]
                            + [s[k][i] if k in s else "—" for k in ("hit_rate", "false_alarm_rate")])
    for r, comp in enumerate(composites):
        for c, t in enumerate(types):
            ax = axes[r, c]
            if chance is not None:
                ax.axhline(chance, color="0.35", ls="--", lw=0.8)
            if r == 0:
                ax.set_title(t)
            if r == nr - 1:
                ax.set_xlabel("Gain α")
            if c == 0:
                ax.set_ylabel(f"{comp}\nA′")
    alphas = sorted({a for s in items for a, t in zip(s["alphas"], s["types"]) if t != "none"})
    axes[0, 0].set_xticks(alphas)
    handles, labels = [], []
    for ax in axes.ravel():
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labels:
                handles.append(h), labels.append(l)
    axes[0, nc - 1].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    stem = R.save(fig, out_dir, KIND)
    rows.sort(key=lambda x: (x[0], x[1], x[2], x[3]))
    return R.Figure([stem], "A′ of steering (hits: steering toward a present category; false alarms: "
                    "toward the absent one) against the gain α, per model; bands: 95% bootstrap CIs"
                    + (f"; dashed: chance (A′ = {chance:g})" if chance is not None else "") + ".",
                    [R.html_table(["model", "composite", "steering", "α", "A′", "hit rate",
                                   "false-alarm rate"], rows, "Table 4: A′ per model and gain")])


if __name__ == "__main__":
    sys.exit(R.main(sys.modules[__name__]))
