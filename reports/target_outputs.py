#!/usr/bin/python3
"""Outputs of target 1, target 2 and the absent category (paper Fig. 7): the model's mean output
(logit of the read-out pass) for the two categories in the composite and for the absent one, without
steering and when steering toward each of them, with 95% bootstrap CIs; one panel per steering type.

Reads `lrm steer` results: /<prefix>/steering/mean_output (condition × steer_toward × output_of)
and mean_output_ci. Usable alone:
    /usr/bin/python3 reports/target_outputs.py results.h5 --out figures/ [--alpha 3]
"""
import sys

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

import lrm_results as R

KIND = "target_outputs"
TITLE = "Outputs of target 1, target 2 and the absent category (Fig. 7)"
ABSENT = "steering outputs (lrm steer: /steering/mean_output)"
ROLE_COLOURS = {"target1": "#0072B2", "target2": "#E69F00", "absent": "#CC79A7"}
ROLE_NAMES = {"target1": "target 1", "target2": "target 2", "absent": "absent"}


def add_arguments(p):
    p.add_argument("--alpha", type=float, help="steering gain shown (default: 3 when run)")


def find(f):
    return [st for st in R.read_steering(f) if "mean_output" in st]


def _group(ax, x0, values, ci, roles, w):
    for r, role in enumerate(roles):
        err = None
        if ci is not None:
            err = [[max(0, values[r] - ci[0][r])], [max(0, ci[1][r] - values[r])]]
        ax.bar(x0 + (r - (len(roles) - 1) / 2) * w, values[r], w, yerr=err,
               color=ROLE_COLOURS.get(role, R.colour(r)), error_kw=dict(lw=0.6, ecolor="0.3"))


def plot(st, out_dir, options=None):
    options = options or {}
    alpha = options.get("alpha") or R.choose_alpha(st)
    out, roles, toward = st["mean_output"], st["output_of"], st["steer_toward"]
    ci = st.get("mean_output_ci")
    types = R.steering_types(st)
    panels = [("no steering", None)] + [(t, R.condition_index(st, t, alpha)) for t in types]
    panels = [p for p in panels if p[0] == "no steering" or p[1] is not None]
    ratios = [2] + [len(toward)] * (len(panels) - 1)
    fig, axes = plt.subplots(1, len(panels), figsize=(min(R.DOUBLE_COLUMN, 0.55 * sum(ratios) + 0.6), 1.7),
                             sharey=True, squeeze=False, gridspec_kw=dict(width_ratios=ratios))
    w = 0.8 / len(roles)
    rows = []
    for p, (label, c) in enumerate(panels):
        ax = axes[0, p]
        if c is None:  # unsteered: pass 0 and the last pass (the same whatever steer_toward)
            labels = []
            for k in sorted(set(st["passes"][np.array(st["types"]) == "none"])):
                i = R.condition_index(st, "none", pass_index=int(k))
                _group(ax, len(labels), out[i, 0], None if ci is None else (ci[0][i, 0], ci[1][i, 0]),
                       roles, w)
                labels.append(f"pass {k}")
                rows.append([st["conditions"][i], "—"] + list(out[i, 0]))
            ax.set_xticks(range(len(labels)))
            ax.set_xticklabels(labels)
        else:
            for j, tw in enumerate(toward):
                _group(ax, j, out[c, j], None if ci is None else (ci[0][c, j], ci[1][c, j]), roles, w)
                rows.append([st["conditions"][c], ROLE_NAMES.get(tw, tw)] + list(out[c, j]))
            ax.set_xticks(range(len(toward)))
            ax.set_xticklabels([ROLE_NAMES.get(t, t) for t in toward], rotation=30, ha="right")
            ax.set_xlabel("steer toward", fontsize=6)
        ax.set_title(label if c is None else f"{label}, α = {st['alphas'][c]:g}")
        ax.axhline(0, color="k", lw=0.5)
    axes[0, 0].set_ylabel(f"Mean output ({st['mean_output_units']})")
    handles = [Patch(color=ROLE_COLOURS.get(r, R.colour(i)), label=f"output of {ROLE_NAMES.get(r, r)}")
               for i, r in enumerate(roles)]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(roles))
    fig.tight_layout(w_pad=0.4)
    name = st["name"] or st["model"]
    stem = R.save(fig, out_dir, R.slug(KIND, name, None if st["composite"] in name else st["composite"]))
    return R.Figure([stem], f"Mean output of the read-out pass for target 1, target 2 and the absent "
                    f"category ({st['path']}, {st['composite']} composites): without steering, and "
                    "steering toward each of them; error bars: 95% bootstrap CIs over composites.",
                    [R.html_table(["condition", "steer toward"]
                                  + [f"output of {ROLE_NAMES.get(r, r)}" for r in roles], rows,
                                  f"Mean outputs, {st['model']} {st['composite']}")])


if __name__ == "__main__":
    sys.exit(R.main(sys.modules[__name__]))
