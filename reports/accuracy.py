#!/usr/bin/python3
"""Accuracy by pass per model, the no-feedback baseline as a dashed line (paper Fig. 2A).

Reads `lrm evaluate` results: /<prefix>/evaluation/top1 (model × pass). Usable alone:
    /usr/bin/python3 reports/accuracy.py results.h5 --out figures/
"""
import sys

import matplotlib.pyplot as plt
import numpy as np

import lrm_results as R

KIND = "accuracy"
TITLE = "Accuracy by pass (Fig. 2A)"
ABSENT = "model evaluation (lrm evaluate: /evaluation)"


def find(f):
    items = R.read_evaluation(f)
    if len(items) < 2 or any(i["passes"] != items[0]["passes"] for i in items):
        return items
    # `lrm run` may hold one evaluation per stage: one figure with every model.
    names = [m for i in items for m in i["models"]]
    unique = len(set(names)) == len(names)
    combined = dict(name="", path=", ".join(i["path"] for i in items), passes=items[0]["passes"],
                    models=names if unique else [f"{i['name']}: {m}" for i in items
                                                 for m in i["models"]],
                    top1=np.concatenate([i["top1"] for i in items]),
                    baseline=next((i["baseline"] for i in items if i["baseline"]), None))
    if not unique and combined["baseline"] is not None:
        owner = next(i for i in items if i["baseline"] == combined["baseline"])
        combined["baseline"] = f"{owner['name']}: {combined['baseline']}"
    if all("top5" in i for i in items):
        combined["top5"] = np.concatenate([i["top5"] for i in items])
    return [combined]


def plot(ev, out_dir, options=None):
    fig, ax = plt.subplots(figsize=(R.SINGLE_COLUMN * 0.62, 2.0))
    passes = np.array(ev["passes"])
    i = 0
    for m, model in enumerate(ev["models"]):
        if model == ev["baseline"]:
            ax.axhline(np.mean(ev["top1"][m]), color="0.35", ls="--", lw=1,
                       label=f"{model} (baseline)")
            continue
        ax.plot(passes, ev["top1"][m], marker="o", color=R.colour(i), label=model)
        i += 1
    ax.set_xticks(passes)
    ax.set_xlabel("Pass")
    ax.set_ylabel("Top-1 accuracy (%)")
    lo = np.nanmin(ev["top1"])
    hi = np.nanmax(ev["top1"])
    pad = max(0.5, 0.15 * (hi - lo))
    ax.set_ylim(max(0, lo - pad), min(100, hi + pad))
    ax.set_xlim(passes.min() - 0.3, passes.max() + 0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    stem = R.save(fig, out_dir, R.slug(KIND, ev["name"]))
    header = ["model"] + [f"pass {k} top-1 (%)" for k in passes] + (
        [f"pass {k} top-5 (%)" for k in passes] if "top5" in ev else [])
    rows = []
    for m, model in enumerate(ev["models"]):
        row = [model] + list(ev["top1"][m]) + (list(ev["top5"][m]) if "top5" in ev else [])
        rows.append(row)
    return R.Figure([stem], f"Top-1 accuracy per pass ({ev['path']}). Dashed: the model without "
                    "feedback (baseline).", [R.html_table(header, rows, "Accuracy by pass")])


if __name__ == "__main__":
    sys.exit(R.main(sys.modules[__name__]))
