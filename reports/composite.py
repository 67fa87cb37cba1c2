#!/usr/bin/python3
"""Composite-image challenge (paper Fig. 5C): for each steering type, the rate at which the top-1
class is the steered category when it is present (hit) and when it is absent (false alarm), with
95% bootstrap CIs; pass 0 (no feedback yet) in black; the accuracy on single images as a dashed
line; one panel per composite kind (overlay, side-by-side), one figure per model.

Reads `lrm steer` results: /<prefix>/steering/{hit_rate, false_alarm_rate}[_ci] per condition.
Usable alone:
    /usr/bin/python3 reports/composite.py results.h5 --out figures/ [--alpha 3]
"""
import sys

import matplotlib.pyplot as plt
from matplotlib.patches import Patch

import lrm_results as R

KIND = "composite"
TITLE = "Composite-image challenge (Fig. 5C)"
ABSENT = "composite challenge (lrm steer: /steering/hit_rate)"
PRESENT, ABSENT_COLOUR = "#0072B2", "#D55E00"


def add_arguments(p):
    p.add_argument("--alpha", type=float, help="steering gain shown (default: 3 when run)")


def find(f):
    by_model = {}
    for st in R.read_steering(f):
        if "hit_rate" in st or "false_alarm_rate" in st:
            by_model.setdefault(R.model_without_composite(st), []).append(st)
    return [dict(model=m, items=v) for m, v in by_model.items()]


def _bars(ax, st, alpha):
    groups = [("pass 0", R.condition_index(st, "none", pass_index=0), True)]
    last = int(st["passes"].max())
    if last > 0:
        groups.append((f"pass {last}", R.condition_index(st, "none", pass_index=last), False))
    groups += [(t, R.condition_index(st, t, alpha), False) for t in R.steering_types(st)]
    groups = [g for g in groups if g[1] is not None]
    w = 0.38
    for x, (label, c, first) in enumerate(groups):
        for dx, key, col in ((-w / 2, "hit_rate", PRESENT), (w / 2, "false_alarm_rate", ABSENT_COLOUR)):
            if key not in st:
                continue
            v = 100 * st[key][c]
            err = None
            if key + "_ci" in st:
                lo, hi = (100 * b[c] for b in st[key + "_ci"])
                err = [[max(0, v - lo)], [max(0, hi - v)]]
            face = "black" if first else col
            hatch = "////" if first and key == "false_alarm_rate" else None
            ax.bar(x + dx, v, w, yerr=err, color="white" if hatch else face, edgecolor=face,
                   hatch=hatch, lw=0.6, error_kw=dict(lw=0.7, ecolor="0.3"))
    if st["single_image_accuracy"] is not None:
        acc = 100 * float(st["single_image_accuracy"])  # a fraction
        ax.axhline(acc, color="0.35", ls="--", lw=0.9)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g[0] for g in groups], rotation=40, ha="right")
    ax.set_ylim(0, 100)
    ax.set_title(st["composite"])
    return groups


def plot(item, out_dir, options=None):
    options = options or {}
    items = sorted(item["items"], key=lambda s: s["composite"])
    n = len(items)
    ntypes = max(len(R.steering_types(s)) for s in items)
    width = min(R.DOUBLE_COLUMN, max(R.SINGLE_COLUMN * 0.75, n * (0.42 * (ntypes + 2) + 0.35)) + 0.2)
    fig, axes = plt.subplots(1, n, figsize=(width, 1.9), squeeze=False, sharey=True)
    rows, alphas = [], []
    for i, st in enumerate(items):
        alpha = options.get("alpha") or R.choose_alpha(st)
        alphas.append(alpha)
        groups = _bars(axes[0, i], st, alpha)
        for label, c, _ in groups:
            cells = []
            for key in ("hit_rate", "false_alarm_rate", "a_prime"):
                if key in st:
                    ci = st.get(key + "_ci")
                    cells.append(f"{st[key][c]:.3f}" + (f" [{ci[0][c]:.3f}, {ci[1][c]:.3f}]"
                                                        if ci is not None else ""))
                else:
                    cells.append("—")
            rows.append([st["composite"], st["conditions"][c]] + cells)
    axes[0, 0].set_ylabel("Top-1 = steered\ncategory (%)")
    handles = [Patch(color=PRESENT, label="target present (hit)"),
               Patch(facecolor="white", edgecolor=ABSENT_COLOUR, label="target absent (false alarm)"),
               Patch(color="black", label="pass 0 (no feedback)")]
    if any(s["single_image_accuracy"] is not None for s in items):
        from matplotlib.lines import Line2D
        handles.append(Line2D([], [], color="0.35", ls="--", lw=0.9, label="single-image accuracy"))
    # Absent bars are drawn solid vermillion; the legend shows the pairing plainly.
    handles[1] = Patch(color=ABSENT_COLOUR, label="target absent (false alarm)")
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2)
    fig.tight_layout()
    stem = R.save(fig, out_dir, R.slug(KIND, item["model"]))
    a_text = ", ".join(f"α = {a:g}" for a in sorted(set(a for a in alphas if a is not None)))
    return R.Figure([stem], f"Composite challenge, {item['model']}: percentage of composites whose "
                    "top-1 class is the category steered toward, when it is in the composite (hit) and "
                    f"when it is not (false alarm), per steering type ({a_text}); unsteered passes first,"
                    " pass 0 in black (hatched: absent). Error bars: 95% bootstrap CIs over composites."
                    + (" Dashed: accuracy on the single images." if any(
                        s["single_image_accuracy"] is not None for s in items) else ""),
                    [R.html_table(["composite", "condition", "hit rate", "false-alarm rate", "A′"],
                                  rows, f"Composite challenge, {item['model']}")])


if __name__ == "__main__":
    sys.exit(R.main(sys.modules[__name__]))
