#!/usr/bin/python3
"""End-to-end checks of the rsatoolbox-standard parts of lrm compare rsa: pooled noise ceilings,
crossnobis RDMs, and the bad inputs of each (one line, exit 2).

Usage: test_rsa_suite.py path/to/lrm   (run from the repository root)
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lrm_e2e import Checks  # noqa: E402

t = Checks("rsa_suite")
brain = "neural_data/kriegeskorte2008/92_brainRDMs.mat"
parity = h5py.File("tests/fixtures/compare/rsa_parity/rsa_parity.h5", "r")
old = h5py.File("tests/fixtures/compare/rsa_fixture.h5", "r")


def ceiling(*extra):
    out = t.path(f"nc{len(os.listdir(t.tmp))}.h5")
    t.run("compare", "rsa", "--brain", brain, "--noise-ceiling", "--out", out, *extra)
    with h5py.File(out, "r") as f:
        return f["rsa/noise_ceiling_lower"][()], f["rsa/noise_ceiling_upper"][()], f["rsa"].attrs["ceiling_pool"]


# Pooled by default, as rsatoolbox's boot_noise_ceiling; --ceiling-pool mean gives the old figures.
for comparison in ("spearman", "pearson", "cosine"):
    lo, up, pool = ceiling("--comparison", comparison)
    want = parity[f"ceiling/{comparison}/lower"][()], parity[f"ceiling/{comparison}/upper"][()]
    t.check(f"pooled {comparison} ceiling equals rsatoolbox's", pool == "pooled"
            and abs(lo - want[0]) < 1e-9 and abs(up - want[1]) < 1e-9, f"{lo} {up} vs {want}")
lo, up, pool = ceiling("--ceiling-pool", "mean")
t.check("--ceiling-pool mean keeps the plain-mean ceiling", pool == "mean"
        and abs(lo - old["noise_ceiling/spearman/lower"][()]) < 1e-12
        and abs(up - old["noise_ceiling/spearman/upper"][()]) < 1e-12)
t.bad_input("unknown ceiling pool", ["compare", "rsa", "--brain", brain, "--noise-ceiling",
                                     "--ceiling-pool", "median", "--out", t.path("x.h5")], "--ceiling-pool")

t.finish()
